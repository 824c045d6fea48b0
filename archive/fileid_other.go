//go:build !unix

package archive

import "os"

// fileID identifies a file by its path where inodes are not at hand.
func fileID(path string, _ os.FileInfo) any { return path }
