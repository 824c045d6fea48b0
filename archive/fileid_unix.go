//go:build unix

package archive

import (
	"os"
	"syscall"
)

// fileID identifies the file behind info, so that a file reached by two
// paths (through a link) is read once.
func fileID(path string, info os.FileInfo) any {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return [2]uint64{uint64(st.Dev), uint64(st.Ino)}
	}
	return path
}
