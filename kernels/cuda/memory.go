//go:build cuda

package cuda

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// driverAlloc is cuMemAlloc/cuMemFree under the runtime's context.
type driverAlloc struct{ r *Runtime }

func (d driverAlloc) alloc(bytes int64) (uint64, error) {
	p, err := cu.MemAlloc(bytes)
	return uint64(p), err
}

func (d driverAlloc) free(p uint64) error { return cu.MemFree(cu.DevicePtr(p)) }

// Alloc returns device memory of at least bytes bytes from the caching
// allocator. The contents are undefined; use Memset to clear.
func (r *Runtime) Alloc(bytes int64) (Ptr, error) {
	var p uint64
	err := r.do(func() error {
		var e error
		p, e = r.alloc.Alloc(bytes)
		return e
	})
	return Ptr(p), err
}

// Free returns a block from Alloc to the cache. Work already queued on the
// stream that reads the block still runs first (one stream, program order).
func (r *Runtime) Free(p Ptr) error {
	return r.do(func() error { return r.alloc.Free(uint64(p)) })
}

// MemStats returns the allocator's counters.
func (r *Runtime) MemStats() AllocStats { return r.alloc.Stats() }

// ResetPeakMem sets the peak counters to the current values.
func (r *Runtime) ResetPeakMem() { r.alloc.ResetPeak() }

// TrimMem returns the cached free blocks to the driver.
func (r *Runtime) TrimMem() error { return r.do(r.alloc.Trim) }

// Memset32 sets n 32-bit words at p to the bit pattern v (asynchronous).
func (r *Runtime) Memset32(p Ptr, v uint32, n int64) error {
	if n == 0 {
		return nil
	}
	return r.do(func() error { return cu.MemsetD32Async(cu.DevicePtr(p), uint(v), n, r.stream) })
}

// CopyDtoD copies bytes from src to dst on the stream (asynchronous).
func (r *Runtime) CopyDtoD(dst, src Ptr, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	return r.do(func() error { return cu.MemcpyDtoDAsync(cu.DevicePtr(dst), cu.DevicePtr(src), bytes, r.stream) })
}

// Upload copies bytes from host memory src to dst through the pinned staging
// buffers, chunk by chunk, and returns once src may be reused.
func (r *Runtime) Upload(dst Ptr, src unsafe.Pointer, bytes int64) error {
	r.counts.uploads.Add(1)
	return r.do(func() error {
		for off := int64(0); off < bytes; {
			buf, n, err := r.staging.next(bytes - off)
			if err != nil {
				return err
			}
			// The staging slot may still be the source of a previous async
			// copy: wait on its event before overwriting it.
			if err := buf.wait(); err != nil {
				return err
			}
			copy(unsafe.Slice((*byte)(buf.host), n), unsafe.Slice((*byte)(unsafe.Add(src, off)), n))
			if err := cu.MemcpyHtoDAsync(cu.DevicePtr(dst.Add(off)), buf.host, n, r.stream); err != nil {
				return fmt.Errorf("cuda: upload of %d bytes: %w", bytes, err)
			}
			if err := buf.record(r.stream); err != nil {
				return err
			}
			off += n
		}
		return nil
	})
}

// Download copies bytes from device memory src into host memory dst through
// the pinned staging buffers; it returns when dst holds the data, and reports
// any error a queued kernel raised.
func (r *Runtime) Download(dst unsafe.Pointer, src Ptr, bytes int64) error {
	r.counts.downloads.Add(1)
	return r.do(func() error {
		for off := int64(0); off < bytes; {
			buf, n, err := r.staging.next(bytes - off)
			if err != nil {
				return err
			}
			if err := buf.wait(); err != nil {
				return err
			}
			if err := cu.MemcpyDtoHAsync(buf.host, cu.DevicePtr(src.Add(off)), n, r.stream); err != nil {
				return fmt.Errorf("cuda: download of %d bytes: %w", bytes, err)
			}
			if err := r.stream.Synchronize(); err != nil {
				return fmt.Errorf("cuda: download (an earlier kernel failed): %w", err)
			}
			copy(unsafe.Slice((*byte)(unsafe.Add(dst, off)), n), unsafe.Slice((*byte)(buf.host), n))
			off += n
		}
		return nil
	})
}
