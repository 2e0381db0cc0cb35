// Package cudaarch lists the GPU architectures a shared library carries
// device code for, by reading the CUDA fat binaries in its ELF .nv_fatbin
// section, so that build-image can refuse an image whose sgl_kernel cannot
// run on an H100 before it is pushed (7 of the previous pipeline's images
// could not). It needs neither cuobjdump nor a GPU.
//
// The fat binary layout is not documented by NVIDIA; the field offsets below
// were read from libraries compiled by nvcc 13.0 whose contents cuobjdump
// listed (testdata/fixtures/gpu/so and arch-runs.txt), and agree with the
// layout published by open-source decoders (gpuocelot, cuda-fatbin-decompress).
//
//	container: magic u32 0xBA55ED50 | version u16 | header size u16 | entries size u64
//	entry:     kind u16 (1 PTX, 2 ELF) | version u16 | header size u32 | payload size u64 |
//	           compressed size u32 @16 | ... | arch u32 @28 (e.g. 90) | ... | flags u64 @40
//
// Every field this package needs is in the entry header, which nvcc never
// compresses, so compressed payloads (LZ4-style flag 0x2000, zstd flag
// 0x8000) are listed exactly like plain ones without decoding them.
package cudaarch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

const (
	fatbinMagic = 0xBA55ED50

	containerHeaderLen = 16
	// entryFieldsLen covers the entry header fields read here (through the
	// flags at offset 40); real headers are 64 bytes or longer.
	entryFieldsLen = 48

	kindPTX = 1
	kindELF = 2

	// flagArchSpecific marks sm_XXa / compute_XXa code: set on every sm_90a
	// and sm_100a entry of the fixtures, clear on sm_80/sm_90.
	flagArchSpecific = 0x100000
	// flagFamilySpecific is set together with flagArchSpecific on sm_100a;
	// alone it marks the sm_XXf family variants of CUDA 12.9+ (inferred: no
	// fixture carries an 'f' target).
	flagFamilySpecific = 0x1000000
)

// Archs is what one library carries: machine code (SASS, "sm_90a") and PTX
// that the driver can compile at load time ("compute_90"). Both lists are
// sorted and free of duplicates; empty, never nil, so JSON shows [].
type Archs struct {
	SASS []string `json:"sass"`
	PTX  []string `json:"ptx"`
}

// HasDeviceCode reports whether the library carries any GPU code at all.
func (a Archs) HasDeviceCode() bool { return len(a.SASS)+len(a.PTX) > 0 }

// ParseFatbin lists the architectures in the contents of an .nv_fatbin
// section: one or more fat binary containers, back to back, possibly
// separated by zero padding.
func ParseFatbin(data []byte) (Archs, error) {
	return parseFatbin(bytes.NewReader(data), int64(len(data)))
}

// parseFatbin reads only the headers of the section r of size bytes, never
// the payloads: an sgl_kernel library's fat binaries run to hundreds of
// megabytes (docs/performance.md).
func parseFatbin(r io.ReaderAt, size int64) (Archs, error) {
	sass, ptx := map[string]bool{}, map[string]bool{}
	var off int64
	var hdr [containerHeaderLen]byte
	for {
		// Containers may be separated, and the section ended, by zero
		// padding for alignment.
		var err error
		if off, err = skipZeros(r, off, size); err != nil {
			return Archs{}, err
		}
		if off >= size {
			break
		}
		if size-off < containerHeaderLen {
			return Archs{}, fmt.Errorf("fat binary container at offset %d: header truncated (%d of %d bytes)", off, size-off, containerHeaderLen)
		}
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return Archs{}, fmt.Errorf("fat binary container at offset %d: %w", off, err)
		}
		if magic := binary.LittleEndian.Uint32(hdr[0:]); magic != fatbinMagic {
			return Archs{}, fmt.Errorf("fat binary container at offset %d: magic %#x, want %#x", off, magic, fatbinMagic)
		}
		hdrLen := int64(binary.LittleEndian.Uint16(hdr[6:]))
		n := binary.LittleEndian.Uint64(hdr[8:])
		if hdrLen < containerHeaderLen {
			return Archs{}, fmt.Errorf("fat binary container at offset %d: header size %d < %d", off, hdrLen, containerHeaderLen)
		}
		start := off + hdrLen
		if start > size || n > uint64(size-start) {
			return Archs{}, fmt.Errorf("fat binary container at offset %d: %d bytes of entries, only %d in the section (truncated)", off, n, max(size-start, 0))
		}
		end := start + int64(n)
		if err := parseEntries(r, start, end, sass, ptx); err != nil {
			return Archs{}, err
		}
		off = end
	}
	return Archs{SASS: sorted(sass), PTX: sorted(ptx)}, nil
}

// skipZeros returns the offset of the first non-zero byte at or after off.
func skipZeros(r io.ReaderAt, off, size int64) (int64, error) {
	var buf [512]byte
	for off < size {
		n := min(int64(len(buf)), size-off)
		if _, err := r.ReadAt(buf[:n], off); err != nil {
			return off, fmt.Errorf("fat binary at offset %d: %w", off, err)
		}
		for i := int64(0); i < n; i++ {
			if buf[i] != 0 {
				return off + i, nil
			}
		}
		off += n
	}
	return off, nil
}

// parseEntries reads the entry headers of one container, [start, end) of
// the section.
func parseEntries(r io.ReaderAt, start, end int64, sass, ptx map[string]bool) error {
	var e [entryFieldsLen]byte
	for p := start; p < end; {
		if end-p < entryFieldsLen {
			return fmt.Errorf("fat binary entry at offset %d: header truncated (%d of %d bytes)", p, end-p, entryFieldsLen)
		}
		if _, err := r.ReadAt(e[:], p); err != nil {
			return fmt.Errorf("fat binary entry at offset %d: %w", p, err)
		}
		kind := binary.LittleEndian.Uint16(e[0:])
		hdrLen := uint64(binary.LittleEndian.Uint32(e[4:]))
		payload := binary.LittleEndian.Uint64(e[8:])
		arch := binary.LittleEndian.Uint32(e[28:])
		flags := binary.LittleEndian.Uint64(e[40:])
		if hdrLen < entryFieldsLen {
			return fmt.Errorf("fat binary entry at offset %d: header size %d < %d", p, hdrLen, entryFieldsLen)
		}
		rest := uint64(end - p)
		if hdrLen > rest || payload > rest-hdrLen {
			return fmt.Errorf("fat binary entry at offset %d: %d+%d bytes, only %d left in its container (truncated)", p, hdrLen, payload, rest)
		}
		if arch < 10 || arch > 1000 {
			return fmt.Errorf("fat binary entry at offset %d: implausible architecture %d", p, arch)
		}
		suffix := ""
		switch {
		case flags&flagArchSpecific != 0:
			suffix = "a"
		case flags&flagFamilySpecific != 0:
			suffix = "f"
		}
		switch kind {
		case kindELF:
			sass[fmt.Sprintf("sm_%d%s", arch, suffix)] = true
		case kindPTX:
			ptx[fmt.Sprintf("compute_%d%s", arch, suffix)] = true
		default:
			// Other kinds (nvcc has written LTO-IR as kind 4) are not code a
			// GPU runs; skip them rather than fail a valid library.
		}
		p += int64(hdrLen + payload)
	}
	return nil
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return lessTarget(out[i], out[j]) })
	return out
}

// lessTarget orders sm_80 < sm_90 < sm_90a < sm_100a: by number, then
// suffix, so that the order reads like a list of GPUs.
func lessTarget(a, b string) bool {
	ta, ea := ParseTarget(a)
	tb, eb := ParseTarget(b)
	if ea != nil || eb != nil {
		return a < b
	}
	if ta.CC != tb.CC {
		return ta.CC < tb.CC
	}
	return ta.Suffix < tb.Suffix
}
