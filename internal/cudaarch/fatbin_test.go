package cudaarch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const fixtures = "../../testdata/fixtures/gpu"

// cuobjdumpTruth reads arch-runs.txt, the cuobjdump --list-elf listings
// captured on the H100 next to the fixture libraries, into the Archs each
// library must read as.
func cuobjdumpTruth(t *testing.T) map[string]Archs {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "arch-runs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := regexp.MustCompile(`^## cuobjdump --list-elf (\S+)$`)
	file := regexp.MustCompile(`^(ELF|PTX) file\s+\d+: \S+\.(sm_\d+[af]?)\.(cubin|ptx)$`)
	truth := map[string]Archs{}
	sets := map[string]map[string]bool{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := head.FindStringSubmatch(line); m != nil {
			cur = "lib" + m[1] + ".so"
			sets[cur+"sass"], sets[cur+"ptx"] = map[string]bool{}, map[string]bool{}
			continue
		}
		if strings.HasPrefix(line, "##") {
			cur = ""
		}
		m := file.FindStringSubmatch(line)
		if m == nil || cur == "" {
			continue
		}
		if m[1] == "ELF" {
			sets[cur+"sass"][m[2]] = true
		} else {
			sets[cur+"ptx"]["compute_"+strings.TrimPrefix(m[2], "sm_")] = true
		}
	}
	for k := range sets {
		if lib, ok := strings.CutSuffix(k, "sass"); ok {
			truth[lib] = Archs{SASS: sorted(sets[lib+"sass"]), PTX: sorted(sets[lib+"ptx"])}
		}
	}
	return truth
}

func TestFixturesMatchCuobjdump(t *testing.T) {
	truth := cuobjdumpTruth(t)
	libs, _ := filepath.Glob(filepath.Join(fixtures, "so", "*.so"))
	if len(libs) < 6 || len(truth) != len(libs) {
		t.Fatalf("%d fixture libraries, %d cuobjdump listings: the fixtures are incomplete", len(libs), len(truth))
	}
	for _, lib := range libs {
		name := filepath.Base(lib)
		t.Run(name, func(t *testing.T) {
			want, ok := truth[name]
			if !ok {
				t.Fatalf("no cuobjdump listing for %s", name)
			}
			got, err := ReadFile(lib)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, cuobjdump lists %+v", got, want)
			}
		})
	}
}

// The support verdicts the build-time check relies on, against what the
// same libraries did on a real H100 (arch-runs.txt: sm80 and sm100 failed
// with cudaErrorNoKernelImageForDevice, the others launched).
func TestSupportOnH100(t *testing.T) {
	want := map[string]Support{
		"libsm80.so": None, "libsm100.so": None, "libsm90.so": Native,
		"libsm90a.so": Native, "libmulti.so": Native, "libsm80_ptx.so": PTXOnly,
	}
	for name, w := range want {
		a, err := ReadFile(filepath.Join(fixtures, "so", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.On(90); got != w {
			t.Errorf("%s on 9.0: %v, want %v", name, got, w)
		}
	}
}

func TestReadRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixtures, "so", "libsm90a.so"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("#!/bin/sh\necho not a library\n"), "not an ELF file"},
		{"empty", nil, "not an ELF file"},
		{"magic only", []byte("\x7fELF"), "truncated or corrupt ELF"},
		{"first half", good[:len(good)/2], "truncated"},
		{"last byte missing", good[:len(good)-1], "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, p, c.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "text")); !errors.Is(err, ErrNotELF) {
		t.Fatalf("non-ELF: %v is not ErrNotELF", err)
	}
}

// entry builds one fat binary entry header (64 bytes) with a payload.
func entry(kind uint16, arch uint32, flags uint64, payload int) []byte {
	b := make([]byte, 64+payload)
	binary.LittleEndian.PutUint16(b[0:], kind)
	binary.LittleEndian.PutUint16(b[2:], 0x101)
	binary.LittleEndian.PutUint32(b[4:], 64)
	binary.LittleEndian.PutUint64(b[8:], uint64(payload))
	binary.LittleEndian.PutUint32(b[28:], arch)
	binary.LittleEndian.PutUint64(b[40:], flags)
	return b
}

func container(entries ...[]byte) []byte {
	var body []byte
	for _, e := range entries {
		body = append(body, e...)
	}
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], fatbinMagic)
	binary.LittleEndian.PutUint16(h[4:], 1)
	binary.LittleEndian.PutUint16(h[6:], 16)
	binary.LittleEndian.PutUint64(h[8:], uint64(len(body)))
	return append(h, body...)
}

func TestParseFatbin(t *testing.T) {
	cases := []struct {
		name    string
		data    []byte
		want    Archs
		wantErr string
	}{
		{"empty section", nil, Archs{SASS: []string{}, PTX: []string{}}, ""},
		{"zero padding between containers",
			append(append(container(entry(kindELF, 80, 0x11, 8)), 0, 0, 0, 0, 0, 0, 0, 0), container(entry(kindELF, 90, 0x100011, 8))...),
			Archs{SASS: []string{"sm_80", "sm_90a"}, PTX: []string{}}, ""},
		{"compressed entries (LZ4 0x2000, zstd 0x8000) list like plain ones",
			container(entry(kindELF, 90, 0x2011, 16), entry(kindPTX, 90, 0x8011, 16), entry(kindPTX, 90, 0x108011, 16)),
			Archs{SASS: []string{"sm_90"}, PTX: []string{"compute_90", "compute_90a"}}, ""},
		{"family-specific", container(entry(kindELF, 100, 0x1000011, 0)), Archs{SASS: []string{"sm_100f"}, PTX: []string{}}, ""},
		{"duplicates collapse, sorted by number", container(entry(kindELF, 100, 0x1100011, 0), entry(kindELF, 80, 0x11, 0), entry(kindELF, 80, 0x11, 0)),
			Archs{SASS: []string{"sm_80", "sm_100a"}, PTX: []string{}}, ""},
		{"bad magic", []byte("0123456789abcdef0123"), Archs{}, "magic"},
		{"container longer than section", container(entry(kindELF, 80, 0, 8))[:40], Archs{}, "truncated"},
		{"entry payload past container", func() []byte {
			c := container(entry(kindELF, 80, 0, 8))
			binary.LittleEndian.PutUint64(c[16+8:], 1<<62)
			return c
		}(), Archs{}, "truncated"},
		{"header size overflow", func() []byte {
			c := container(entry(kindELF, 80, 0, 8))
			binary.LittleEndian.PutUint32(c[16+4:], 0xffffffff)
			return c
		}(), Archs{}, "truncated"},
		{"zero arch", container(entry(kindELF, 0, 0, 0)), Archs{}, "architecture"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseFatbin(c.data)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
