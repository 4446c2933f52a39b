//go:build hostcheck

package cuda

// A stand-in for kernels/cuda's Runtime (runtime.go, launch.go, memory.go,
// convert.go) that runs kernels in the CPU emulator sim.cc instead of on a
// GPU. run.sh copies it, untagged, next to copies of the launchers and their
// tests. Launch checks what a GPU would reject or misread: the kernel must be
// an entry of the module's PTX, take exactly as many parameters as are
// passed, each of the kind passed (pointer/integer -> 64-bit integer,
// float -> double), and the grid and block must be within the hardware
// limits.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// Dim3 is a grid or block shape.
type Dim3 struct{ X, Y, Z int }

// D1, D2 and D3 build grid/block shapes.
func D1(x int) Dim3       { return Dim3{x, 1, 1} }
func D2(x, y int) Dim3    { return Dim3{x, y, 1} }
func D3(x, y, z int) Dim3 { return Dim3{x, y, z} }

// Ptr is a device address (an address in the emulator process).
type Ptr uint64

// Add returns p advanced by bytes.
func (p Ptr) Add(bytes int64) Ptr { return Ptr(int64(p) + bytes) }

// CeilDiv returns ceil(a/b).
func CeilDiv(a, b int) int { return (a + b - 1) / b }

// Runtime talks to one emulator process.
type Runtime struct {
	mu    sync.Mutex
	cmd   *exec.Cmd
	w     *bufio.Writer
	rd    *bufio.Reader
	sms   int
	kinds map[string]string // module.kernel -> PTX parameter kinds
	// Launches counts the kernels run (the tests' sanity check).
	Launches int
}

// Stress mode (NORI_STRESS=1, see run.sh): grids of one SM's worth of
// blocks, row-kernel grids of 2 blocks and launches split into slabs of at
// most 5000 elements, so that the grid-stride loops and the 2^31-element
// slab splitting run at test sizes. run.sh points the launchers' grid cap and
// slab size at these variables.
var (
	hostStress      = os.Getenv("NORI_STRESS") == "1"
	hostNormMaxGrid = stressInt(normMaxGrid, 2)
	hostSlabElems   = int64(stressInt(maxKernelElems, 5000))
)

func stressInt(normal, stress int) int {
	if hostStress {
		return stress
	}
	return normal
}

// Open starts the emulator ($NORI_SIM). The SM count is an H100's (1 in
// stress mode), so grid sizes are those the GPU would get.
func Open(ordinal int) (*Runtime, error) {
	bin := os.Getenv("NORI_SIM")
	if bin == "" {
		return nil, fmt.Errorf("hostcheck: NORI_SIM (the emulator binary) is not set; use run.sh")
	}
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Runtime{cmd: cmd, w: bufio.NewWriterSize(in, 1<<20), rd: bufio.NewReaderSize(out, 1<<20), sms: stressInt(132, 1),
		kinds: map[string]string{}}, nil
}

func (r *Runtime) SMs() int { return r.sms }

func (r *Runtime) elementwiseGrid(n, block int) Dim3 {
	return D1(max(1, min(CeilDiv(n, block), 32*max(r.sms, 1))))
}

func (r *Runtime) put(vs ...uint64) {
	var b [8]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint64(b[:], v)
		r.w.Write(b[:])
	}
}

func (r *Runtime) get() uint64 {
	var b [8]byte
	if _, err := io.ReadFull(r.rd, b[:]); err != nil {
		st := r.cmd.Wait()
		panic(fmt.Sprintf("hostcheck: the emulator died (%v; %v): see its message above", err, st))
	}
	return binary.LittleEndian.Uint64(b[:])
}

// reply flushes the command and reads the status.
func (r *Runtime) reply(op string) error {
	if err := r.w.Flush(); err != nil {
		return err
	}
	if r.get() == 0 {
		return nil
	}
	msg := make([]byte, r.get())
	io.ReadFull(r.rd, msg)
	return fmt.Errorf("hostcheck %s: %s", op, msg)
}

func (r *Runtime) Alloc(bytes int64) (Ptr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(1, uint64(bytes))
	if err := r.reply("alloc"); err != nil {
		return 0, err
	}
	return Ptr(r.get()), nil
}

func (r *Runtime) Free(p Ptr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(2, uint64(p))
	return r.reply("free")
}

func (r *Runtime) Upload(dst Ptr, src unsafe.Pointer, bytes int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(3, uint64(dst), uint64(bytes))
	r.w.Write(unsafe.Slice((*byte)(src), bytes))
	return r.reply("upload")
}

func (r *Runtime) Download(dst unsafe.Pointer, src Ptr, bytes int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(4, uint64(src), uint64(bytes))
	if err := r.reply("download"); err != nil {
		return err
	}
	_, err := io.ReadFull(r.rd, unsafe.Slice((*byte)(dst), bytes))
	return err
}

func (r *Runtime) Memset32(p Ptr, v uint32, n int64) error {
	if n == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(5, uint64(p), uint64(v), uint64(n))
	return r.reply("memset32")
}

func (r *Runtime) CopyDtoD(dst, src Ptr, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(6, uint64(dst), uint64(src), uint64(bytes))
	return r.reply("copy")
}

func (r *Runtime) Sync() error { return nil }

// Time runs f and reports 1 ms (the emulator has no meaningful timing).
func (r *Runtime) Time(f func() error) (float64, error) { return 1, f() }

// ptxKinds returns the parameter kinds ("u"/"f") of module.name from the
// committed PTX, or an error naming what is wrong.
func (r *Runtime) ptxKinds(module, name string) (string, error) {
	key := module + "." + name
	if k, ok := r.kinds[key]; ok {
		return k, nil
	}
	src, err := os.ReadFile(filepath.Join(os.Getenv("NORI_PTX"), module+".ptx"))
	if err != nil {
		return "", fmt.Errorf("no PTX module %q: %v", module, err)
	}
	ptx := string(src)
	i := strings.Index(ptx, ".entry "+name+"(")
	if i < 0 {
		return "", fmt.Errorf("kernel %s is not an entry of module %s", name, module)
	}
	body := ptx[i:]
	body = body[:strings.Index(body, ")")]
	var kinds strings.Builder
	for _, line := range strings.Split(body, "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) < 2 || f[0] != ".param" {
			continue
		}
		switch f[1] {
		case ".u64", ".b64", ".s64":
			kinds.WriteByte('u')
		case ".f64":
			kinds.WriteByte('f')
		default:
			return "", fmt.Errorf("kernel %s has a parameter of type %s (every parameter must be 8 bytes)", name, f[1])
		}
	}
	r.kinds[key] = kinds.String()
	return kinds.String(), nil
}

// Launch runs kernel name of module in the emulator, after the checks above.
func (r *Runtime) Launch(module, name string, grid, block Dim3, sharedBytes int, args ...any) error {
	want, err := r.ptxKinds(module, name)
	if err != nil {
		return fmt.Errorf("hostcheck launch: %v", err)
	}
	if len(want) != len(args) {
		return fmt.Errorf("hostcheck launch %s: %d arguments passed, the kernel takes %d", name, len(args), len(want))
	}
	slots := make([]uint64, len(args))
	for i, a := range args {
		kind := byte('u')
		switch v := a.(type) {
		case Ptr:
			slots[i] = uint64(v)
		case int:
			slots[i] = uint64(int64(v))
		case int64:
			slots[i] = uint64(v)
		case uint64:
			slots[i] = v
		case float64:
			slots[i], kind = math.Float64bits(v), 'f'
		case float32:
			slots[i], kind = math.Float64bits(float64(v)), 'f'
		default:
			return fmt.Errorf("hostcheck launch %s: argument %d has type %T", name, i, a)
		}
		if kind != want[i] {
			return fmt.Errorf("hostcheck launch %s: argument %d is a %T, the kernel's parameter kind is %c", name, i, a, want[i])
		}
	}
	if grid.X < 1 || grid.X > math.MaxInt32 || grid.Y < 1 || grid.Y > 65535 || grid.Z < 1 || grid.Z > 65535 {
		return fmt.Errorf("hostcheck launch %s: grid %v outside the hardware limits", name, grid)
	}
	if block.X < 1 || block.Y < 1 || block.Z < 1 || block.X > 1024 || block.Y > 1024 || block.Z > 64 ||
		block.X*block.Y*block.Z > 1024 {
		return fmt.Errorf("hostcheck launch %s: block %v outside the hardware limits", name, block)
	}
	if sharedBytes < 0 || sharedBytes > 227<<10 {
		return fmt.Errorf("hostcheck launch %s: %d bytes of dynamic shared memory", name, sharedBytes)
	}
	if sharedBytes > 0 {
		return fmt.Errorf("hostcheck launch %s: dynamic shared memory is not emulated", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Launches++
	r.put(7, uint64(len(name)))
	r.w.WriteString(name)
	r.put(uint64(grid.X), uint64(grid.Y), uint64(grid.Z), uint64(block.X), uint64(block.Y), uint64(block.Z), uint64(len(want)))
	r.w.WriteString(want)
	r.put(slots...)
	return r.reply("launch")
}
