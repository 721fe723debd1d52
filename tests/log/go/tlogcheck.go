// tlogcheck audits a C2SP tlog-tiles directory with Go's golang.org/x/mod/sumdb
// packages, independently of dosetrail's Python code. It is test data for
// tests/log/test_go_interop.py, built in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogcheck tlogcheck.go
//	tlogcheck DIR VERIFIER_KEY
//
// It verifies the checkpoint signature (note.Open with note.NewVerifier),
// recomputes the root hash from the tiles (tlog.TileHashReader, tlog.TreeHash),
// and proves and checks the inclusion of every entry of the entry bundles
// (tlog.ProveRecord, tlog.CheckRecord with tlog.RecordHash). It prints
// "ok <size>" on success and exits 1 with a message otherwise.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

// indexPath encodes N as C2SP tlog-tiles path elements: x001/x234/067.
func indexPath(n int64) string {
	s := fmt.Sprintf("%03d", n)
	for len(s)%3 != 0 {
		s = "0" + s
	}
	var parts []string
	for i := 0; i < len(s); i += 3 {
		p := s[i : i+3]
		if i+3 < len(s) {
			p = "x" + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "/")
}

// c2spPath is the C2SP path of a tile: unlike Tile.Path, it has no height element.
func c2spPath(t tlog.Tile) string {
	p := "tile/" + strconv.Itoa(t.L) + "/" + indexPath(t.N)
	if t.W != 1<<uint(t.H) {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

// dirTiles reads tiles from the directory, caching them (tiles are immutable).
type dirTiles struct {
	dir   string
	cache map[string][]byte
}

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := c2spPath(t)
		data, ok := d.cache[p]
		if !ok {
			var err error
			data, err = os.ReadFile(filepath.Join(d.dir, p))
			if err != nil {
				return nil, err
			}
			d.cache[p] = data
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// cachedHashes remembers hashes already returned (and so authenticated) by the
// tile hash reader, which otherwise re-verifies the tiles on every call.
type cachedHashes struct {
	r     tlog.HashReader
	cache map[int64]tlog.Hash
}

func (c cachedHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for _, x := range indexes {
		if _, ok := c.cache[x]; !ok {
			missing = append(missing, x)
		}
	}
	if len(missing) > 0 {
		hs, err := c.r.ReadHashes(missing)
		if err != nil {
			return nil, err
		}
		for i, x := range missing {
			c.cache[x] = hs[i]
		}
	}
	for i, x := range indexes {
		out[i] = c.cache[x]
	}
	return out, nil
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: tlogcheck DIR VERIFIER_KEY")
	}
	dir, vkey := os.Args[1], os.Args[2]

	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	// C2SP tlog-checkpoint body: origin, size, base64 root (tlog.ParseTree wants go.sum's origin).
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body has too few lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("checkpoint size %q", lines[1])
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}

	hr := cachedHashes{tlog.TileHashReader(tree, dirTiles{dir, map[string][]byte{}}), map[int64]tlog.Hash{}}
	got, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if got != root {
		fail("root recomputed from tiles %v != checkpoint root %v", got, root)
	}

	var index int64
	for b := int64(0); b*256 < size; b++ {
		w := size - b*256
		p := "tile/entries/" + indexPath(b)
		if w < 256 {
			p += ".p/" + strconv.FormatInt(w, 10)
		} else {
			w = 256
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			fail("%v", err)
		}
		var count int64
		for len(data) > 0 {
			if len(data) < 2 {
				fail("%s: truncated length", p)
			}
			l := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+l {
				fail("%s: truncated entry", p)
			}
			entry := data[2 : 2+l]
			data = data[2+l:]
			proof, err := tlog.ProveRecord(size, index, hr)
			if err != nil {
				fail("prove entry %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
				fail("entry %d not included: %v", index, err)
			}
			index++
			count++
		}
		if count != w {
			fail("%s holds %d entries, want %d", p, count, w)
		}
	}
	if index != size {
		fail("bundles hold %d entries, checkpoint size is %d", index, size)
	}
	fmt.Printf("ok %d\n", size)
}
