// sim.cc: a CPU emulator for nori's CUDA kernels, driven over stdin/stdout by
// the Go runtime stand-in (runtime_host.go). See README.md.
//
// Device memory: every allocation is its own mapping between two PROT_NONE
// guard pages, placed so that it ends 256-byte aligned just before the upper
// guard (so reading or writing past its end faults or hits the canary), with
// the bytes around it filled with 0xff (a NaN as float32 or float64) and
// checked after every launch: a stray write is reported, a stray read shows
// up as NaN in the results.
//
// Launch: every CUDA thread of a block is a fiber (ucontext); a fiber runs
// until it reaches __syncthreads or a warp shuffle, where it waits until
// every thread of its block (or warp) has arrived. Blocks run one after the
// other. Each launch runs twice from the same memory, once with blocks and
// threads in increasing order and once in decreasing order, and the two
// results must be bit-identical: a data race (shared or global) or an order-
// dependent reduction shows up as a difference. A barrier or full-mask
// shuffle reached by only part of the block/warp (divergence, or after some
// threads returned) is reported as an error, as it is undefined on a GPU.
//
// Kernel call: the entry is found with dlsym (the binary is linked with
// -rdynamic). Kernel parameters are all 8 bytes: pointers / long long
// ("u") and double ("f"), their kinds read from the PTX by the Go side. On
// x86-64 System V, doubles go to xmm0-7 and integers to rdi.. then the
// stack, each class in order, so a call through void(double x8, u64 x64)
// with the integers and doubles in their own orders matches any kernel with
// at most 8 doubles.
#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "sim.h"

SimCoords *sim_cur;

namespace {

[[noreturn]] void die(const char *msg) {
    fprintf(stderr, "sim: %s\n", msg);
    fflush(stderr);
    _exit(3);
}

// ---- protocol I/O ----
void rd(void *p, size_t n) {
    char *c = (char *)p;
    while (n > 0) {
        ssize_t k = read(0, c, n);
        if (k <= 0) _exit(0);  // the Go side closed the pipe
        c += k;
        n -= (size_t)k;
    }
}
uint64_t rd64() {
    uint64_t v;
    rd(&v, 8);
    return v;
}
void wr(const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n > 0) {
        ssize_t k = write(1, c, n);
        if (k <= 0) die("write to the Go side failed");
        c += k;
        n -= (size_t)k;
    }
}
void wr64(uint64_t v) { wr(&v, 8); }
void reply_ok() { wr64(0); }
void reply_err(const std::string &m) {
    wr64(1);
    wr64(m.size());
    wr(m.data(), m.size());
}

// ---- memory ----
const size_t kPage = 4096;
struct Alloc {
    char *map;     // start of the mapping (lower guard page)
    size_t mlen;   // whole mapping
    char *base;    // the allocation
    size_t bytes;  // its size
};
std::map<uint64_t, Alloc> allocs;  // by base address

size_t round_up(size_t a, size_t b) { return (a + b - 1) / b * b; }

char *data_lo(const Alloc &a) { return a.map + kPage; }
char *data_hi(const Alloc &a) { return a.map + a.mlen - kPage; }

uint64_t do_alloc(size_t bytes) {
    const size_t want = round_up(bytes == 0 ? 1 : bytes, 256);
    const size_t data = round_up(want, kPage);
    const size_t mlen = data + 2 * kPage;
    void *m = mmap(nullptr, mlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 0;
    Alloc a{(char *)m, mlen, nullptr, bytes};
    mprotect(a.map, kPage, PROT_NONE);
    mprotect(a.map + mlen - kPage, kPage, PROT_NONE);
    a.base = data_hi(a) - want;
    memset(data_lo(a), 0xff, data);  // canary everywhere; the contents start undefined (NaN)
    allocs[(uint64_t)a.base] = a;
    return (uint64_t)a.base;
}

// find returns the allocation holding [p, p+n), or null.
Alloc *find(uint64_t p, uint64_t n) {
    auto it = allocs.upper_bound(p);
    if (it == allocs.begin()) return nullptr;
    --it;
    Alloc &a = it->second;
    if (p < (uint64_t)a.base || p + n > (uint64_t)a.base + a.bytes || p + n < p) return nullptr;
    return &a;
}

// canary_ok reports whether the bytes of a's pages outside the allocation
// still hold 0xff.
bool canary_ok(const Alloc &a, std::string &where) {
    for (char *c = data_lo(a); c < data_hi(a); c++) {
        if (c >= a.base && c < a.base + a.bytes) {
            c = a.base + a.bytes - 1;
            continue;
        }
        if ((unsigned char)*c != 0xff) {
            char buf[200];
            snprintf(buf, sizeof buf, "write outside an allocation: byte %+lld from the start of the %zu-byte block at %#llx",
                     (long long)(c - a.base), a.bytes, (unsigned long long)(uint64_t)a.base);
            where = buf;
            return false;
        }
    }
    return true;
}

// ---- fibers ----
enum State { RUN, WAIT_BLOCK, WAIT_WARP, DONE };
struct Fiber {
    ucontext_t ctx;
    char *stack;
    SimCoords c;
    State st;
    int warp, lane;
    unsigned shfl;  // shuffles done (selects the exchange buffer)
};
const size_t kStack = 256 << 10;
std::vector<Fiber> fibers;
ucontext_t sched_ctx;
int cur_fiber;
std::string sim_error;  // first error of the running launch

struct WarpBuf {
    uint64_t v[2][32];
    unsigned mask[2][32];
};
std::vector<WarpBuf> warps;

struct Call {
    void *fn;
    double d[8];
    uint64_t u[64];
    int nu;
} call;

void fiber_main() {
    typedef void (*Fn)(double, double, double, double, double, double, double, double,
                       uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
    Fn f = (Fn)call.fn;
    const double *d = call.d;
    const uint64_t *u = call.u;
    f(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
      u[11], u[12], u[13], u[14], u[15], u[16], u[17], u[18], u[19], u[20], u[21], u[22], u[23], u[24], u[25], u[26],
      u[27], u[28], u[29], u[30], u[31], u[32], u[33], u[34], u[35], u[36], u[37], u[38], u[39], u[40], u[41], u[42],
      u[43], u[44], u[45], u[46], u[47], u[48], u[49], u[50], u[51], u[52], u[53], u[54], u[55], u[56], u[57], u[58],
      u[59], u[60], u[61], u[62], u[63]);
    fibers[cur_fiber].st = DONE;
    swapcontext(&fibers[cur_fiber].ctx, &sched_ctx);
    die("a finished fiber was resumed");
}

void yield_to_scheduler() {
    Fiber &f = fibers[cur_fiber];
    swapcontext(&f.ctx, &sched_ctx);
    sim_cur = &fibers[cur_fiber].c;
}

void set_error(const std::string &m) {
    if (sim_error.empty()) sim_error = m;
}

// run_block runs one block to completion with the given thread order
// (reverse or not). Returns false on a synchronisation error.
bool run_block(dim3 grid, dim3 block, uint3 bid, bool reverse) {
    const int nt = (int)(block.x * block.y * block.z);
    const int nw = (nt + 31) / 32;
    if ((int)fibers.size() < nt) fibers.resize(nt);
    if ((int)warps.size() < nw) warps.resize(nw);
    for (int t = 0; t < nt; t++) {
        Fiber &f = fibers[t];
        if (!f.stack) {
            f.stack = (char *)mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (f.stack == MAP_FAILED) die("cannot map a fiber stack");
        }
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_main, 0);
        f.c.tid = uint3{(unsigned)(t % block.x), (unsigned)(t / block.x % block.y), (unsigned)(t / (block.x * block.y))};
        f.c.bid = bid;
        f.c.bdim = block;
        f.c.gdim = grid;
        f.st = RUN;
        f.warp = t / 32;
        f.lane = t % 32;
        f.shfl = 0;
    }
    // Each warp in turn runs as far as it can (its shuffles are released as
    // soon as all its lanes arrive) before the next one starts, so a warp
    // races ahead of the others to the next __syncthreads: shared data that
    // one warp overwrites while another still needs it, or reads before
    // another wrote it, gives a result that differs between the forward and
    // the reverse order. Lanes of a warp run one after the other between
    // shuffles, so races inside a warp show up the same way.
    for (;;) {
        bool progress = false;
        for (int k = 0; k < nw; k++) {
            const int w = reverse ? nw - 1 - k : k;
            const int t0 = w * 32, t1 = t0 + 32 < nt ? t0 + 32 : nt;
            for (;;) {
                bool ran = false;
                for (int j = 0; j < t1 - t0; j++) {
                    const int t = reverse ? t1 - 1 - j : t0 + j;
                    if (fibers[t].st != RUN) continue;
                    cur_fiber = t;
                    sim_cur = &fibers[t].c;
                    swapcontext(&sched_ctx, &fibers[t].ctx);
                    ran = progress = true;
                }
                int waiting = 0, finished = 0;
                for (int t = t0; t < t1; t++) {
                    waiting += fibers[t].st == WAIT_WARP;
                    finished += fibers[t].st == DONE;
                }
                if (waiting == t1 - t0) {
                    if (t1 - t0 != 32) {
                        char buf[200];
                        snprintf(buf, sizeof buf, "block (%u,%u,%u): a full-mask shuffle in warp %d of only %d threads",
                                 bid.x, bid.y, bid.z, w, t1 - t0);
                        set_error(buf);
                        return false;
                    }
                    for (int t = t0; t < t1; t++) fibers[t].st = RUN;
                    continue;
                }
                if (waiting > 0) {
                    char buf[200];
                    snprintf(buf, sizeof buf,
                             "warp %d of block (%u,%u,%u): %d of its %d lanes wait at a full-mask shuffle, %d have "
                             "returned, the others wait at __syncthreads (undefined on a GPU)",
                             w, bid.x, bid.y, bid.z, waiting, t1 - t0, finished);
                    set_error(buf);
                    return false;
                }
                if (!ran) break;
            }
        }
        int done = 0, wblock = 0;
        for (int t = 0; t < nt; t++) {
            done += fibers[t].st == DONE;
            wblock += fibers[t].st == WAIT_BLOCK;
        }
        if (done == nt) return true;
        if (wblock == nt) {
            for (int t = 0; t < nt; t++) fibers[t].st = RUN;
            continue;
        }
        if (!progress || done + wblock == nt) {
            char buf[200];
            snprintf(buf, sizeof buf,
                     "block (%u,%u,%u): %d threads wait at __syncthreads while %d have returned (a barrier not reached "
                     "by the whole block)",
                     bid.x, bid.y, bid.z, wblock, done);
            set_error(buf);
            return false;
        }
    }
}

}  // namespace

void sim_syncthreads() {
    fibers[cur_fiber].st = WAIT_BLOCK;
    yield_to_scheduler();
}

uint64_t sim_shfl_xor(unsigned mask, uint64_t v, int o) {
    Fiber &f = fibers[cur_fiber];
    if (mask != 0xffffffffu) set_error("a shuffle with a partial mask (the emulator supports full-warp shuffles only)");
    WarpBuf &w = warps[f.warp];
    const int p = f.shfl & 1;
    w.v[p][f.lane] = v;
    w.mask[p][f.lane] = mask;
    f.st = WAIT_WARP;
    yield_to_scheduler();
    Fiber &g = fibers[cur_fiber];
    const int partner = (g.lane ^ o) & 31;
    const uint64_t r = w.v[p][partner];
    g.shfl++;
    return r;
}

namespace {

struct Snapshot {
    std::vector<std::vector<char>> data;  // per allocation, the whole data pages
};

Snapshot snap() {
    Snapshot s;
    for (auto &kv : allocs) {
        const Alloc &a = kv.second;
        s.data.emplace_back(data_lo(a), data_hi(a));
    }
    return s;
}

void restore(const Snapshot &s) {
    size_t i = 0;
    for (auto &kv : allocs) {
        const Alloc &a = kv.second;
        memcpy(data_lo(a), s.data[i].data(), s.data[i].size());
        i++;
    }
}

bool run_grid(dim3 grid, dim3 block, bool reverse) {
    const long long nb = (long long)grid.x * grid.y * grid.z;
    for (long long k = 0; k < nb; k++) {
        const long long b = reverse ? nb - 1 - k : k;
        const uint3 bid{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((long long)grid.x * grid.y))};
        if (!run_block(grid, block, bid, reverse)) return false;
    }
    return true;
}

std::string launch(const std::string &name, dim3 grid, dim3 block, const std::string &kinds, const uint64_t *args) {
    void *fn = dlsym(RTLD_DEFAULT, name.c_str());
    if (!fn) return "no kernel " + name + " in the emulator (is its .cu compiled in?)";
    int nd = 0, nu = 0;
    memset(&call, 0, sizeof call);
    for (size_t i = 0; i < kinds.size(); i++) {
        if (kinds[i] == 'f') {
            if (nd == 8) return "more than 8 double parameters";
            memcpy(&call.d[nd++], &args[i], 8);
        } else {
            if (nu == 64) return "more than 64 integer parameters";
            call.u[nu++] = args[i];
        }
    }
    call.fn = fn;
    call.nu = nu;
    sim_error.clear();
    const Snapshot before = snap();
    if (!run_grid(grid, block, false)) return sim_error;
    if (!sim_error.empty()) return sim_error;
    const Snapshot first = snap();
    restore(before);
    if (!run_grid(grid, block, true)) return sim_error;
    if (!sim_error.empty()) return sim_error;
    size_t i = 0;
    for (auto &kv : allocs) {
        const Alloc &a = kv.second;
        const std::vector<char> &f = first.data[i++];
        if (memcmp(f.data(), data_lo(a), f.size()) != 0) {
            size_t j = 0;
            while (f[j] == data_lo(a)[j]) j++;
            char buf[300];
            snprintf(buf, sizeof buf,
                     "the result depends on the order blocks and threads run in (a race): byte %+lld of the %zu-byte block "
                     "at %#llx differs between forward and reverse order",
                     (long long)(data_lo(a) + j - a.base), a.bytes, (unsigned long long)(uint64_t)a.base);
            return buf;
        }
        std::string where;
        if (!canary_ok(a, where)) return where;
    }
    return "";
}

void segv(int sig, siginfo_t *si, void *) {
    char buf[200];
    int n = snprintf(buf, sizeof buf, "sim: signal %d (fault address %p) while a kernel ran: an out-of-bounds access\n", sig,
                     si->si_addr);
    if (write(2, buf, n) < 0) {}
    _exit(4);
}

}  // namespace

int main() {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    static char altstack[1 << 16];
    stack_t ss{altstack, 0, sizeof altstack};
    sigaltstack(&ss, nullptr);
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
    for (;;) {
        const uint64_t cmd = rd64();
        switch (cmd) {
        case 1: {  // alloc bytes -> ptr
            const uint64_t n = rd64();
            const uint64_t p = do_alloc(n);
            if (!p) {
                reply_err("out of memory");
                break;
            }
            reply_ok();
            wr64(p);
            break;
        }
        case 2: {  // free ptr
            const uint64_t p = rd64();
            auto it = allocs.find(p);
            if (it == allocs.end()) {
                reply_err("free of a pointer that is not an allocation");
                break;
            }
            std::string where;
            const bool ok = canary_ok(it->second, where);
            munmap(it->second.map, it->second.mlen);
            allocs.erase(it);
            if (!ok) {
                reply_err(where);
                break;
            }
            reply_ok();
            break;
        }
        case 3: {  // upload ptr n bytes...
            const uint64_t p = rd64(), n = rd64();
            std::vector<char> buf(n);
            rd(buf.data(), n);
            if (!find(p, n)) {
                reply_err("upload outside an allocation");
                break;
            }
            memcpy((void *)p, buf.data(), n);
            reply_ok();
            break;
        }
        case 4: {  // download ptr n -> bytes
            const uint64_t p = rd64(), n = rd64();
            if (!find(p, n)) {
                reply_err("download outside an allocation");
                break;
            }
            reply_ok();
            wr((void *)p, n);
            break;
        }
        case 5: {  // memset32 ptr value words
            const uint64_t p = rd64(), v = rd64(), n = rd64();
            if (!find(p, 4 * n)) {
                reply_err("memset outside an allocation");
                break;
            }
            const uint32_t w = (uint32_t)v;
            for (uint64_t i = 0; i < n; i++) memcpy((char *)p + 4 * i, &w, 4);
            reply_ok();
            break;
        }
        case 6: {  // copy dst src bytes
            const uint64_t d = rd64(), s = rd64(), n = rd64();
            if (!find(d, n) || !find(s, n)) {
                reply_err("device copy outside an allocation");
                break;
            }
            memmove((void *)d, (void *)s, n);
            reply_ok();
            break;
        }
        case 7: {  // launch: name, grid xyz, block xyz, nargs, kinds, args
            const uint64_t nl = rd64();
            std::string name(nl, '\0');
            rd(&name[0], nl);
            dim3 g, b;
            g.x = (unsigned)rd64(), g.y = (unsigned)rd64(), g.z = (unsigned)rd64();
            b.x = (unsigned)rd64(), b.y = (unsigned)rd64(), b.z = (unsigned)rd64();
            const uint64_t na = rd64();
            std::string kinds(na, '\0');
            rd(&kinds[0], na);
            std::vector<uint64_t> args(na + 1);
            for (uint64_t i = 0; i < na; i++) args[i] = rd64();
            const std::string err = launch(name, g, b, kinds, args.data());
            if (!err.empty()) {
                reply_err(name + ": " + err);
                break;
            }
            reply_ok();
            break;
        }
        default:
            die("unknown command");
        }
    }
}
