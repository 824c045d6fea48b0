package gunzip

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

func TestZZTruncLens(t *testing.T) {
	var out bytes.Buffer
	for seed := uint64(1); seed < 4; seed++ {
		data := flowText(300, seed)
		for _, gz := range [][]byte{compressKlauspost(t, data, 6), compressStd(t, data, 9), compressStd(t, data, -2)} {
			for n := range len(gz) {
				got, _ := gunzip(bytes.NewReader(gz[:n]))
				fmt.Fprintln(&out, len(got))
			}
		}
	}
	os.WriteFile(os.Getenv("ZZOUT"), out.Bytes(), 0o644)
}
