package cudaarch

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
)

// SectionName is the ELF section nvcc puts fat binaries in.
const SectionName = ".nv_fatbin"

// ErrNotELF is returned for a file that is not an ELF object at all.
var ErrNotELF = errors.New("not an ELF file (a compiled .so was expected)")

// Read lists the architectures in the ELF object r of size bytes. A valid
// ELF without an .nv_fatbin section (a CPU-only helper library) gives empty
// Archs and no error: it carries no device code, which callers decide about.
func Read(r io.ReaderAt, size int64) (Archs, error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return Archs{}, ErrNotELF
	}
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return Archs{}, fmt.Errorf("truncated or corrupt ELF: %w", err)
	}
	defer f.Close()
	s := f.Section(SectionName)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return Archs{SASS: []string{}, PTX: []string{}}, nil
	}
	if s.Offset > uint64(size) || s.Size > uint64(size)-s.Offset {
		return Archs{}, fmt.Errorf("truncated ELF: section %s ends at byte %d, file has %d", SectionName, s.Offset+s.Size, size)
	}
	var sec io.ReaderAt = io.NewSectionReader(r, int64(s.Offset), int64(s.Size))
	n := int64(s.Size)
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		// Never seen for .nv_fatbin, but legal ELF: decompress it whole.
		data, err := s.Data()
		if err != nil {
			return Archs{}, fmt.Errorf("truncated or corrupt ELF: reading %s: %w", SectionName, err)
		}
		sec, n = bytes.NewReader(data), int64(len(data))
	}
	a, err := parseFatbin(sec, n)
	if err != nil {
		return Archs{}, fmt.Errorf("section %s: %w", SectionName, err)
	}
	return a, nil
}

// ReadFile lists the architectures of the library at path; errors name it.
func ReadFile(path string) (Archs, error) {
	f, err := os.Open(path)
	if err != nil {
		return Archs{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Archs{}, err
	}
	if !st.Mode().IsRegular() {
		return Archs{}, fmt.Errorf("%s: not a regular file", path)
	}
	a, err := Read(f, st.Size())
	if err != nil {
		return Archs{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
