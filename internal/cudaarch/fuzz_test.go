package cudaarch

import (
	"bytes"
	"testing"
)

// checkArchs asserts the invariants of a successful read: every entry is a
// well-formed target of the right kind, sorted and unique.
func checkArchs(t *testing.T, a Archs) {
	t.Helper()
	for _, l := range []struct {
		ptx  bool
		list []string
	}{{false, a.SASS}, {true, a.PTX}} {
		for i, s := range l.list {
			tg, err := ParseTarget(s)
			if err != nil {
				t.Fatalf("listed an unparsable target %q: %v", s, err)
			}
			if tg.PTX != l.ptx {
				t.Fatalf("target %q in the wrong list", s)
			}
			if i > 0 && !lessTarget(l.list[i-1], s) {
				t.Fatalf("not sorted or duplicated: %v", l.list)
			}
		}
	}
}

// FuzzRead: no input makes the reader panic or hang; it either lists
// well-formed targets or returns an error. Seeds (testdata/fuzz/FuzzRead)
// are the fixture libraries reduced to their .nv_fatbin section with
// objcopy -j .nv_fatbin, so that mutations reach the fat binary parser.
func FuzzRead(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			checkArchs(t, a)
		}
	})
}

// FuzzParseFatbin mutates section contents directly (seeds: the sections
// of the fixture libraries).
func FuzzParseFatbin(f *testing.F) {
	f.Add(container(entry(kindELF, 90, 0x100011, 8), entry(kindPTX, 80, 0x8011, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseFatbin(data)
		if err == nil {
			checkArchs(t, a)
		}
	})
}
