package cudaarch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// bigLibrary returns the bytes of an ELF whose .nv_fatbin holds n entries
// of payload bytes each (sm_80, sm_90a alternating): the shape of a fat
// sgl_kernel build, made from a fixture by moving its section to the end.
func bigLibrary(tb testing.TB, n, payload int) []byte {
	tb.Helper()
	base, err := os.ReadFile(filepath.Join(fixtures, "so", "libsm80_ptx.so"))
	if err != nil {
		tb.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(base))
	if err != nil {
		tb.Fatal(err)
	}
	idx := -1
	for i, s := range f.Sections {
		if s.Name == SectionName {
			idx = i
		}
	}
	var entries [][]byte
	for i := 0; i < n; i++ {
		arch, flags := uint32(80), uint64(0x11)
		if i%2 == 1 {
			arch, flags = 90, 0x100011
		}
		entries = append(entries, entry(kindELF, arch, flags, payload))
	}
	fat := container(entries...)
	out := append([]byte(nil), base...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	off := len(out)
	out = append(out, fat...)
	shoff := binary.LittleEndian.Uint64(base[0x28:])
	shentsize := int(binary.LittleEndian.Uint16(base[0x3a:]))
	h := int(shoff) + idx*shentsize
	binary.LittleEndian.PutUint64(out[h+24:], uint64(off))
	binary.LittleEndian.PutUint64(out[h+32:], uint64(len(fat)))
	return out
}

// readViaData is how the reader first worked: load the whole section.
func readViaData(data []byte) (Archs, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return Archs{}, err
	}
	b, err := f.Section(SectionName).Data()
	if err != nil {
		return Archs{}, err
	}
	return ParseFatbin(b)
}

func TestBigLibrary(t *testing.T) {
	lib := bigLibrary(t, 8, 1<<20)
	a, err := Read(bytes.NewReader(lib), int64(len(lib)))
	if err != nil || len(a.SASS) != 2 || a.SASS[1] != "sm_90a" {
		t.Fatalf("%+v %v", a, err)
	}
}

// BenchmarkRead compares reading a library with 256 MiB of fat binaries
// (128 entries of 2 MiB, an sgl_kernel-sized build) header by header
// against loading the whole section.
func BenchmarkRead(b *testing.B) {
	lib := bigLibrary(b, 128, 2<<20)
	for _, c := range []struct {
		name string
		read func() (Archs, error)
	}{
		{"headers", func() (Archs, error) { return Read(bytes.NewReader(lib), int64(len(lib))) }},
		{"whole-section", func() (Archs, error) { return readViaData(lib) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(lib)))
			for b.Loop() {
				if _, err := c.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadFixture reads a real 1 MB fixture library from disk.
func BenchmarkReadFixture(b *testing.B) {
	p := filepath.Join(fixtures, "so", "libmulti.so")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
