// gemm_emu.cc: runs kernels/cuda/src/gemm.cu's kernels (the real source, compiled as host C++ by gemm_emu.sh)
// on the CPU, every thread of every block, and compares C with a float64 product. See gemm_README.md.
//
// Execution: each CUDA thread is a fiber (ucontext). A fiber runs until __syncthreads, a warp-collective
// instruction (ldmatrix, mma.sync: all 32 lanes must arrive, then the scheduler executes it from the lanes'
// operands per the PTX ISA's fragment layouts) or a cp.async (a voluntary switch point under the random
// schedule). Schedules: greedy lowest-thread-first, greedy highest-first, random; blocks forward or reverse.
// Warp collectives are executed for one warp at a time, so that under the greedy schedules one warp runs all
// its work up to the next barrier before the next warp starts (the largest skew a GPU could show).
// cp.async semantics: a per-thread list of copies, commit_group closes a group, wait_group N completes all but
// the N newest groups; the copy lands at issue ("eager"), at completion ("lazy"), or 0xff at issue and the data
// at completion ("nan", the adversarial one). Every result must be bit-identical across schedules and cp.async
// policies, and within a float64-derived bound of the exact product.
//
// Checks that fail a case at once: a cp.async whose global source is not 16-byte aligned, or whose src-size
// bytes are outside the operand's allocation, or whose shared destination is misaligned or outside the launch's
// dynamic shared memory; a cp.async into bytes another warp read (ldmatrix) since the last barrier (the
// write-after-read race of prefetching into a stage a lagging warp still reads), or into bytes whose earlier
// copy is still in flight; an ldmatrix of bytes whose cp.async is not both complete (wait_group) and published
// by a later barrier; cp.async copies never waited for; ldmatrix row addresses misaligned or outside the
// window; an mma.sync tf32 operand that was not rounded to tf32; a barrier or warp collective not reached by
// every thread / lane; plain shared accesses past the dynamic size (the window ends at a guard page); global
// accesses past an allocation (guard page after it, 0xff = NaN in the slack before it); writes outside C's
// matrices (every byte of C's buffer outside them, and of every input, must be unchanged); misaligned
// vector accesses (UBSan alignment).
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "gemm_host.h"

SimCoords *sim_cur;

#define GEMM_PARAMS                                                                                                 \
    void *C, const void *A, const void *B, const float *bias, const float *R, long long M, long long N, long long K, \
        long long lda, long long ldb, long long ldc, long long batch, long long sA, long long sB, long long sC,     \
        double alpha, double beta, double rs, long long act, long long flags
typedef void (*Kernel)(GEMM_PARAMS);
extern "C" {
#define DECL(n) void n(GEMM_PARAMS);
#define DECL4(p) DECL(p##_nn) DECL(p##_nt) DECL(p##_tn) DECL(p##_tt)
DECL4(nori_gemm_bf16_l)
DECL4(nori_gemm_bf16_s)
DECL4(nori_gemm_tf32_l)
DECL4(nori_gemm_tf32_s)
DECL4(nori_gemm_fp32)
int2 gemm_host_raster(int pid, int tm, int tn);
}
struct KEnt {
    const char *name;
    Kernel fn;
};
#define ENT(n) {#n, n},
#define ENT4(p) ENT(p##_nn) ENT(p##_nt) ENT(p##_tn) ENT(p##_tt)
const KEnt kernels[] = {ENT4(nori_gemm_bf16_l) ENT4(nori_gemm_bf16_s) ENT4(nori_gemm_tf32_l) ENT4(nori_gemm_tf32_s)
                            ENT4(nori_gemm_fp32)};

namespace {

std::string g_err;  // first error of the running case
bool force_vec;     // -forcevec: set the cp.async flags whatever the alignment (the checks must then fail)
void fail(const std::string &m) {
    if (g_err.empty()) g_err = m;
}
std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

// ---------------------------------------------------------------- global memory

const size_t kPage = 4096;
struct Buf {
    uint8_t *map;
    size_t mlen;
    uint8_t *base;
    size_t bytes;
};
std::vector<Buf> bufs;

size_t round_up(size_t a, size_t b) { return (a + b - 1) / b * b; }

// galloc returns bytes of "device" memory at an address = off mod 16, ending at most 15 bytes before a guard
// page; the rest of its pages hold 0xff.
uint8_t *galloc(size_t bytes, size_t off) {
    const size_t span = round_up(bytes + off + 16, 16);
    const size_t data = round_up(span, kPage);
    const size_t mlen = data + 2 * kPage;
    uint8_t *m = (uint8_t *)mmap(nullptr, mlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    mprotect(m, kPage, PROT_NONE);
    mprotect(m + mlen - kPage, kPage, PROT_NONE);
    memset(m + kPage, 0xff, data);
    uint8_t *hi = m + mlen - kPage;
    uint8_t *base = hi - round_up(bytes + off, 16) + off;
    bufs.push_back(Buf{m, mlen, base, bytes});
    return base;
}
void gfree_all() {
    for (auto &b : bufs) munmap(b.map, b.mlen);
    bufs.clear();
}
const Buf *gfind(const void *p, size_t n) {
    const uint8_t *q = (const uint8_t *)p;
    for (auto &b : bufs)
        if (q >= b.base && q + n <= b.base + b.bytes) return &b;
    return nullptr;
}
// outside_intact reports whether every byte of b's pages outside the allocation still holds 0xff.
bool outside_intact(const Buf &b) {
    for (uint8_t *c = b.map + kPage; c < b.map + b.mlen - kPage; c++) {
        if (c == b.base) c += b.bytes;
        if (c >= b.map + b.mlen - kPage) break;
        if (*c != 0xff) return false;
    }
    return true;
}

// ---------------------------------------------------------------- shared memory and its race shadow

const size_t kSmemMax = 232448;  // sm_90's 227 KiB opt-in limit
uint8_t *smem_map, *smem_base;    // the window ends at a guard page
size_t smem_dyn;                  // this launch's dynamic shared bytes
const long long kInf = 1LL << 62;
std::vector<int> sh_owner;             // thread of the last cp.async into the byte, -1 none
std::vector<long long> sh_done;        // epoch its copy completed in the issuing thread (kInf: in flight)
std::vector<long long> sh_rd_epoch;    // epoch of the last ldmatrix read
std::vector<uint32_t> sh_rd_warps;     // warps that read it in that epoch
long long epoch;                       // barriers completed in this block

void smem_init() {
    const size_t mlen = round_up(kSmemMax, kPage) + kPage;
    smem_map = (uint8_t *)mmap(nullptr, mlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (smem_map == MAP_FAILED) abort();
    mprotect(smem_map + mlen - kPage, kPage, PROT_NONE);
    sh_owner.resize(kSmemMax);
    sh_done.resize(kSmemMax);
    sh_rd_epoch.resize(kSmemMax);
    sh_rd_warps.resize(kSmemMax);
}
void smem_launch(size_t dyn) {
    smem_dyn = dyn;
    smem_base = smem_map + round_up(kSmemMax, kPage) - dyn;
}
void smem_block_reset() {
    memset(smem_base, 0xff, smem_dyn);  // shared memory starts as garbage (NaN)
    std::fill(sh_owner.begin(), sh_owner.end(), -1);
    std::fill(sh_done.begin(), sh_done.end(), 0);
    std::fill(sh_rd_epoch.begin(), sh_rd_epoch.end(), -1);
    std::fill(sh_rd_warps.begin(), sh_rd_warps.end(), 0);
    epoch = 0;
}

// ---------------------------------------------------------------- fibers and scheduling

enum St { RUN, WBAR, WWARP, DONE };
enum Op { OP_LDSM = 1, OP_LDSM_T, OP_MMA_BF16, OP_MMA_TF32 };
struct Copy {
    uint32_t dst;
    const uint8_t *src;
    int bytes;
};
struct Fiber {
    ucontext_t ctx;
    char *stack = nullptr;
    SimCoords c;
    St st;
    int tid, warp, lane;
    std::vector<Copy> open;                 // issued, not yet committed
    std::deque<std::vector<Copy>> groups;   // committed, not yet complete
    int op, nops;                            // pending warp collective, collectives done
    uint32_t in[6];
    float fin[4], fout[4];
    uint32_t out[4];
};
const int kThreads = 256;
const size_t kStack = 128 << 10;
std::vector<Fiber> fib(kThreads);
ucontext_t sched_ctx;
int cur;

struct Policy {
    int sched;  // 0 lowest thread first, 1 highest first, 2 random
    int cp;     // 0 eager, 1 lazy, 2 nan-then-data
    bool rev_blocks;
    const char *name;
};
Policy pol;
std::mt19937_64 rng;

struct Launch {
    Kernel fn;
    void *C;
    const void *A, *B;
    const float *bias, *R;
    long long M, N, K, lda, ldb, ldc, batch, sA, sB, sC;
    double alpha, beta, rs;
    long long act, flags;
} L;

void fiber_main() {
    L.fn(L.C, L.A, L.B, L.bias, L.R, L.M, L.N, L.K, L.lda, L.ldb, L.ldc, L.batch, L.sA, L.sB, L.sC, L.alpha, L.beta,
         L.rs, L.act, L.flags);
    Fiber &f = fib[cur];
    size_t pending = f.open.size();
    for (auto &g : f.groups) pending += g.size();
    if (pending) fail(fmt("thread %d exits with %zu cp.async copies never waited for", f.tid, pending));
    f.st = DONE;
    swapcontext(&f.ctx, &sched_ctx);
    abort();
}

void to_scheduler() {
    swapcontext(&fib[cur].ctx, &sched_ctx);
    sim_cur = &fib[cur].c;
}

uint16_t sh16(uint32_t off) {
    uint16_t v;
    memcpy(&v, smem_base + off, 2);
    return v;
}

void do_copy(const Copy &c) {
    if (c.bytes > 0) memcpy(smem_base + c.dst, c.src, c.bytes);
    memset(smem_base + c.dst + c.bytes, 0, 16 - c.bytes);
}

float bf16f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

// run_collective executes warp w's pending ldmatrix or mma.sync.
void run_collective(int w) {
    Fiber *lane = &fib[w * 32];
    const int op = lane[0].op;
    for (int l = 0; l < 32; l++)
        if (lane[l].op != op || lane[l].nops != lane[0].nops) {
            fail(fmt("warp %d: lanes at different warp collectives (divergence)", w));
            return;
        }
    if (op == OP_LDSM || op == OP_LDSM_T) {
        for (int l = 0; l < 32; l++) {
            const uint32_t a = lane[l].in[0];
            if (a % 16 || a + 16 > smem_dyn) {
                fail(fmt("ldmatrix: lane %d of warp %d row address %u misaligned or outside %zu bytes", l, w, a, smem_dyn));
                return;
            }
            for (uint32_t b = a; b < a + 16; b++) {
                if (sh_owner[b] >= 0 && sh_done[b] >= epoch) {
                    fail(fmt("ldmatrix (warp %d, epoch %lld) reads shared byte %u whose cp.async by thread %d is %s", w, epoch,
                             b, sh_owner[b], sh_done[b] == kInf ? "still in flight" : "complete but not published by a barrier"));
                    return;
                }
                if (sh_rd_epoch[b] != epoch) sh_rd_epoch[b] = epoch, sh_rd_warps[b] = 0;
                sh_rd_warps[b] |= 1u << w;
            }
        }
        for (int l = 0; l < 32; l++) {
            const int g = l >> 2, t = l & 3;
            for (int i = 0; i < 4; i++) {
                uint16_t lo, hi;
                if (op == OP_LDSM) {  // row g of matrix i, b16 elements 2t and 2t+1
                    const uint32_t row = lane[8 * i + g].in[0];
                    lo = sh16(row + 4 * t), hi = sh16(row + 4 * t + 2);
                } else {  // .trans: elements (2t, g) and (2t+1, g) of the stored matrix
                    lo = sh16(lane[8 * i + 2 * t].in[0] + 2 * g), hi = sh16(lane[8 * i + 2 * t + 1].in[0] + 2 * g);
                }
                lane[l].out[i] = lo | (uint32_t)hi << 16;
            }
        }
    } else {
        // D = A*B + C per the PTX ISA fragment layouts (g = lane/4, t = lane%4), exact products summed in double.
        const bool bf = op == OP_MMA_BF16;
        const int KK = bf ? 16 : 8;
        double a[16][16], b[16][8], c[16][8];
        for (int l = 0; l < 32; l++) {
            const int g = l >> 2, t = l & 3;
            const uint32_t *r = lane[l].in;
            if (bf) {
                for (int h = 0; h < 2; h++) {
                    a[g][2 * t + h] = bf16f(r[0] >> (16 * h));
                    a[g + 8][2 * t + h] = bf16f(r[1] >> (16 * h));
                    a[g][2 * t + 8 + h] = bf16f(r[2] >> (16 * h));
                    a[g + 8][2 * t + 8 + h] = bf16f(r[3] >> (16 * h));
                    b[2 * t + h][g] = bf16f(r[4] >> (16 * h));
                    b[2 * t + 8 + h][g] = bf16f(r[5] >> (16 * h));
                }
            } else {
                for (int q = 0; q < 6; q++) {
                    const uint32_t v = r[q];
                    if ((v & 0x7f800000u) != 0x7f800000u && (v & 0x1fffu)) {
                        fail(fmt("mma tf32: warp %d lane %d operand %d = %#x not rounded to tf32", w, l, q, v));
                        return;
                    }
                }
                auto tf = [](uint32_t v) { return (double)__uint_as_float(v & ~0x1fffu); };  // the tensor core ignores the low bits
                a[g][t] = tf(r[0]);
                a[g + 8][t] = tf(r[1]);
                a[g][t + 4] = tf(r[2]);
                a[g + 8][t + 4] = tf(r[3]);
                b[t][g] = tf(r[4]);
                b[t + 4][g] = tf(r[5]);
            }
            c[g][2 * t] = lane[l].fin[0];
            c[g][2 * t + 1] = lane[l].fin[1];
            c[g + 8][2 * t] = lane[l].fin[2];
            c[g + 8][2 * t + 1] = lane[l].fin[3];
        }
        double d[16][8];
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 8; j++) {
                double s = c[i][j];
                for (int k = 0; k < KK; k++) s += a[i][k] * b[k][j];
                d[i][j] = s;
            }
        for (int l = 0; l < 32; l++) {
            const int g = l >> 2, t = l & 3;
            lane[l].fout[0] = (float)d[g][2 * t];
            lane[l].fout[1] = (float)d[g][2 * t + 1];
            lane[l].fout[2] = (float)d[g + 8][2 * t];
            lane[l].fout[3] = (float)d[g + 8][2 * t + 1];
        }
    }
    for (int l = 0; l < 32; l++) lane[l].st = RUN, lane[l].nops++;
}

// run_block runs one block to the end under the current policy. False on an error.
bool run_block(dim3 grid, uint3 bid) {
    smem_block_reset();
    for (int t = 0; t < kThreads; t++) {
        Fiber &f = fib[t];
        if (!f.stack) f.stack = (char *)malloc(kStack);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_main, 0);
        f.c.tid = uint3{(unsigned)t, 0, 0};
        f.c.bid = bid;
        f.c.bdim = dim3{kThreads, 1, 1};
        f.c.gdim = grid;
        f.st = RUN;
        f.tid = t, f.warp = t / 32, f.lane = t % 32;
        f.open.clear();
        f.groups.clear();
        f.op = 0, f.nops = 0;
    }
    std::vector<int> runnable;
    for (;;) {
        if (!g_err.empty()) return false;
        runnable.clear();
        for (int t = 0; t < kThreads; t++)
            if (fib[t].st == RUN) runnable.push_back(t);
        if (!runnable.empty()) {
            int t = pol.sched == 0 ? runnable.front() : pol.sched == 1 ? runnable.back() : runnable[rng() % runnable.size()];
            cur = t;
            sim_cur = &fib[t].c;
            swapcontext(&sched_ctx, &fib[t].ctx);
            continue;
        }
        // Nobody runs: execute the collective of ONE warp whose 32 lanes all arrived (the lowest, highest or a
        // random one: that warp then runs ahead of the others as far as the next barrier, the largest skew
        // between warps), else release a barrier that every thread reached.
        std::vector<int> ready;
        for (int w = 0; w < kThreads / 32; w++) {
            int waiting = 0;
            for (int l = 0; l < 32; l++) waiting += fib[w * 32 + l].st == WWARP;
            if (waiting == 0) continue;
            if (waiting != 32) {
                fail(fmt("warp %d: %d lanes wait at a warp collective, the others are at a barrier or done", w, waiting));
                return false;
            }
            ready.push_back(w);
        }
        if (!ready.empty()) {
            run_collective(pol.sched == 0 ? ready.front() : pol.sched == 1 ? ready.back() : ready[rng() % ready.size()]);
            continue;
        }
        int done = 0, bar = 0;
        for (int t = 0; t < kThreads; t++) done += fib[t].st == DONE, bar += fib[t].st == WBAR;
        if (done == kThreads) return g_err.empty();
        if (bar == kThreads) {
            epoch++;
            for (int t = 0; t < kThreads; t++) fib[t].st = RUN;
            continue;
        }
        fail(fmt("block (%u,%u,%u): %d threads at a barrier while %d returned", bid.x, bid.y, bid.z, bar, done));
        return false;
    }
}

bool run_grid(dim3 grid) {
    const long long nb = (long long)grid.x * grid.y * grid.z;
    for (long long k = 0; k < nb; k++) {
        const long long b = pol.rev_blocks ? nb - 1 - k : k;
        const uint3 bid{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((long long)grid.x * grid.y))};
        if (!run_block(grid, bid)) return false;
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------- the device functions gemm_host.h declares

void sim_syncthreads() {
    fib[cur].st = WBAR;
    to_scheduler();
}

uint8_t *sim_dyn_smem() { return smem_base; }

uint32_t sim_smem_offset(const void *p) {
    const uint8_t *q = (const uint8_t *)p;
    if (q < smem_base || q > smem_base + smem_dyn) fail("__cvta_generic_to_shared of an address outside the dynamic shared memory");
    return (uint32_t)(q - smem_base);
}

void sim_cp_async16(uint32_t dst, const void *src, int bytes) {
    Fiber &f = fib[cur];
    if (dst % 16 || dst + 16 > smem_dyn) fail(fmt("cp.async: shared destination %u misaligned or past %zu bytes", dst, smem_dyn));
    if (bytes < 0 || bytes > 16) fail(fmt("cp.async: src-size %d", bytes));
    if ((uintptr_t)src % 16) fail(fmt("cp.async: global source %p not 16-byte aligned (thread %d)", src, f.tid));
    if (bytes > 0 && !gfind(src, bytes)) fail(fmt("cp.async: %d bytes at %p outside every allocation (thread %d)", bytes, src, f.tid));
    if (!g_err.empty()) {
        to_scheduler();
        return;
    }
    for (uint32_t b = dst; b < dst + 16; b++) {
        if (sh_rd_epoch[b] == epoch && (sh_rd_warps[b] & ~(1u << f.warp))) {
            fail(fmt("cp.async by thread %d into shared byte %u, which warp mask %#x read (ldmatrix) since the last barrier (epoch %lld): write-after-read race",
                     f.tid, b, sh_rd_warps[b] & ~(1u << f.warp), epoch));
            break;
        }
        if (sh_owner[b] >= 0 && sh_done[b] == kInf) {
            fail(fmt("cp.async by thread %d into shared byte %u while thread %d's copy there is in flight", f.tid, b, sh_owner[b]));
            break;
        }
        sh_owner[b] = f.tid;
        sh_done[b] = kInf;
    }
    const Copy c{dst, (const uint8_t *)src, bytes};
    if (pol.cp == 0) do_copy(c);
    if (pol.cp == 2) memset(smem_base + dst, 0xff, 16);
    f.open.push_back(c);
    if (pol.sched == 2) to_scheduler();  // let other threads run between a copy's issue and its completion
}

void sim_cp_commit() {
    Fiber &f = fib[cur];
    f.groups.push_back(f.open);
    f.open.clear();
}

void sim_cp_wait(int n) {
    Fiber &f = fib[cur];
    while ((int)f.groups.size() > n) {
        for (const Copy &c : f.groups.front()) {
            if (pol.cp != 0) do_copy(c);
            for (uint32_t b = c.dst; b < c.dst + 16; b++)
                if (sh_owner[b] == f.tid) sh_done[b] = epoch;
        }
        f.groups.pop_front();
    }
}

void sim_ldmatrix_x4(uint32_t (&r)[4], uint32_t addr, bool trans) {
    Fiber &f = fib[cur];
    f.op = trans ? OP_LDSM_T : OP_LDSM;
    f.in[0] = addr;
    f.st = WWARP;
    to_scheduler();
    for (int i = 0; i < 4; i++) r[i] = fib[cur].out[i];
}

void sim_mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, bool bf16) {
    Fiber &f = fib[cur];
    f.op = bf16 ? OP_MMA_BF16 : OP_MMA_TF32;
    for (int i = 0; i < 4; i++) f.in[i] = a[i], f.fin[i] = d[i];
    f.in[4] = b0, f.in[5] = b1;
    f.st = WWARP;
    to_scheduler();
    for (int i = 0; i < 4; i++) d[i] = fib[cur].fout[i];
}

// ---------------------------------------------------------------- cases

namespace {

enum Prec { FP32, TF32, BF16 };
const char *prec_name[] = {"fp32", "tf32", "bf16"};

struct Case {
    Prec prec;
    char tile;  // 'l' or 's' (tensor cores)
    bool ta, tb;
    int M, N, K;
    int pad;               // added to every tight leading dimension; -1: rounded up to 16 bytes plus 16 (cp.async rows)
    int batch = 1;         // with strides grown to the matrix size (0 = broadcast for A, B)
    bool bcastA = false, bcastB = false;
    long long gapC = 0;    // extra elements between the batches of C
    int zlimit = 65535;    // grid z (smaller than batch: the kernels loop)
    float alpha = 1, beta = 0, rs = 0;
    int act = 0;
    bool bias = false, res = false, inplace = false, outbf16 = false;
    int offA = 0, offB = 0, offC = 0;  // byte offsets of the base addresses (multiples of the element size)
    bool nanA = false;                 // A[0][0] of every batch is NaN: row 0 of C must come out NaN
    std::string str() const {
        std::string s = fmt("%s %c%c M=%d N=%d K=%d ", prec_name[prec], ta ? 't' : 'n', tb ? 't' : 'n', M, N, K);
        s += pad < 0 ? "ld=aligned" : fmt("pad=%d", pad);
        if (prec != FP32) s += fmt(" tile=%c", tile);
        if (batch > 1) s += fmt(" batch=%d%s%s z=%d", batch, bcastA ? " bcastA" : "", bcastB ? " bcastB" : "", std::min(batch, zlimit));
        s += fmt(" alpha=%g beta=%g act=%d", alpha, beta, act);
        if (bias) s += " bias";
        if (res) s += fmt(" res*%g%s", rs, inplace ? "(in place)" : "");
        if (outbf16) s += " out=bf16";
        if (offA || offB || offC) s += fmt(" off=%d/%d/%d", offA, offB, offC);
        if (nanA) s += " nanA";
        return s;
    }
};

uint16_t bf16_rne(float f) { return __float2bfloat16_rn(f).x; }
float tf32_rna(float f) { return __uint_as_float((__float_as_uint(f) & 0x7f800000u) == 0x7f800000u ? __float_as_uint(f) : (__float_as_uint(f) + 0x1000u) & ~0x1fffu); }
double act_ref(double v, int a) {
    if (a == 1) return v > 0 || std::isnan(v) ? v : 0;  // kernels/ref: max(v, 0), NaN propagates
    if (a == 2) return v / (1 + std::exp(-v));
    if (a == 3) return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    return v;
}

// run_case returns "" or the reason the case failed.
std::string run_case(const Case &tc, uint64_t seed, std::string &info) {
    g_err.clear();
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> nd;
    const int es = tc.prec == BF16 ? 2 : 4, oes = tc.outbf16 ? 2 : 4;
    auto ldof = [&](long long cols) { return tc.pad >= 0 ? cols + tc.pad : (long long)round_up(cols * es, 16) / es + 16 / es; };
    const long long lda = ldof(tc.ta ? tc.M : tc.K), ldb = ldof(tc.tb ? tc.K : tc.N), ldc = tc.pad >= 0 ? tc.N + tc.pad : round_up(tc.N, 4) + 4;
    const long long arows = tc.ta ? tc.K : tc.M, acols = tc.ta ? tc.M : tc.K;
    const long long brows = tc.tb ? tc.N : tc.K, bcols = tc.tb ? tc.K : tc.N;
    const long long oneA = (arows - 1) * lda + acols, oneB = (brows - 1) * ldb + bcols, oneC = (long long)(tc.M - 1) * ldc + tc.N;
    // Strides: one matrix plus 3 elements (16-byte alignment of the batches then varies with the case).
    // Batch strides: 16-byte multiples with aligned rows, else one matrix plus 3 elements.
    auto stride = [&](long long one, int e) { return tc.pad < 0 ? (long long)round_up(one * e, 16) / e : one + 3; };
    const long long sA = tc.batch > 1 && !tc.bcastA ? stride(oneA, es) : 0;
    const long long sB = tc.batch > 1 && !tc.bcastB ? stride(oneB, es) : 0;
    const long long sC = tc.batch > 1 ? stride(oneC + tc.gapC, 4) : 0;
    const long long nA = (tc.batch - 1) * sA + oneA, nB = (tc.batch - 1) * sB + oneB, nC = (tc.batch - 1) * sC + oneC;

    // Inputs: random inside the matrices, NaN in the padding and between batches. xa/xb hold the values the
    // kernel multiplies (bf16 as stored, tf32 rounded).
    std::vector<float> xa(nA, NAN), xb(nB, NAN);
    auto fill = [&](std::vector<float> &x, long long stride, long long rows, long long cols, long long ld) {
        for (int z = 0; z < tc.batch; z++) {
            if (z > 0 && stride == 0) break;
            for (long long r = 0; r < rows; r++)
                for (long long c = 0; c < cols; c++) x[z * stride + r * ld + c] = nd(gen);
        }
    };
    fill(xa, sA, arows, acols, lda);
    fill(xb, sB, brows, bcols, ldb);
    if (tc.nanA)
        for (int z = 0; z < (sA ? tc.batch : 1); z++) xa[z * sA] = NAN;
    uint8_t *pa = galloc(nA * es, tc.offA), *pb = galloc(nB * es, tc.offB);
    auto store = [&](std::vector<float> &x, uint8_t *p) {
        for (size_t i = 0; i < x.size(); i++) {
            if (tc.prec == BF16) {
                const uint16_t h = bf16_rne(x[i]);
                memcpy(p + 2 * i, &h, 2);
                x[i] = bf16f(h);
            } else {
                memcpy(p + 4 * i, &x[i], 4);
                if (tc.prec == TF32) x[i] = tf32_rna(x[i]);
            }
        }
    };
    store(xa, pa);
    store(xb, pb);
    auto insideC = [&](long long i, int &z, int &m, int &n) {
        z = tc.batch > 1 ? (int)std::min<long long>(i / sC, tc.batch - 1) : 0;
        const long long off = i - z * sC;
        m = (int)(off / ldc), n = (int)(off % ldc);
        return m < tc.M && n < tc.N;
    };
    std::vector<float> cold(nC, NAN), bias, res;
    if (tc.beta != 0 || tc.inplace)
        for (long long i = 0; i < nC; i++) {
            int z, m, n;
            if (insideC(i, z, m, n)) cold[i] = nd(gen);
        }
    uint8_t *pc = galloc(nC * oes, tc.offC);
    std::vector<uint8_t> c0(nC * oes, 0xff);
    if (!tc.outbf16) memcpy(c0.data(), cold.data(), nC * 4);
    float *pbias = nullptr, *pres = nullptr;
    if (tc.bias) {
        bias.resize(tc.N);
        for (auto &v : bias) v = nd(gen);
        pbias = (float *)galloc(tc.N * 4, 0);
        memcpy(pbias, bias.data(), tc.N * 4);
    }
    if (tc.res) {
        if (tc.inplace) {
            res = cold;
            pres = (float *)pc;
        } else {
            res.assign(nC, NAN);
            for (long long i = 0; i < nC; i++) {
                int z, m, n;
                if (insideC(i, z, m, n)) res[i] = nd(gen);
            }
            pres = (float *)galloc(nC * 4, 0);
            memcpy(pres, res.data(), nC * 4);
        }
    }

    // The launch as gemm.go's GemmRun computes it (flags, kernel, shared bytes, grid): a transcription.
    auto vec16 = [&](const void *p, long long ld, long long stride) {
        return (uintptr_t)p % 16 == 0 && (ld * es) % 16 == 0 && (tc.batch == 1 || (stride * es) % 16 == 0);
    };
    long long flags = tc.outbf16 ? 1 : 0;
    if (vec16(pa, lda, sA) || force_vec) flags |= 2;
    if (vec16(pb, ldb, sB) || force_vec) flags |= 4;
    if ((uintptr_t)pc % (4 * oes) == 0 && ldc % 4 == 0 && (tc.batch == 1 || sC % 4 == 0) && (uintptr_t)pres % 16 == 0 &&
        (uintptr_t)pbias % 16 == 0)
        flags |= 8;
    std::string name = "nori_gemm_";
    int bm = 128, bn = 128;
    size_t shared = 0;
    if (tc.prec == FP32) {
        name += "fp32_";
    } else {
        if (tc.tile == 's') bm = 64;
        name += fmt("%s_%c_", prec_name[tc.prec], tc.tile);
        auto tile = [&](int rows, bool kc) { return kc ? rows * 64 : (64 / es) * (rows + 8) * es; };
        shared = std::max(4 * (tile(bm, !tc.ta) + tile(bn, tc.tb)), bm * (bn + 8) * 4);
    }
    name += tc.ta ? "t" : "n";
    name += tc.tb ? "t" : "n";
    Kernel fn = nullptr;
    for (auto &k : kernels)
        if (name == k.name) fn = k.fn;
    if (!fn) return "no kernel " + name;
    const dim3 grid{(unsigned)(((tc.M + bm - 1) / bm) * ((tc.N + bn - 1) / bn)), 1, (unsigned)std::min(tc.batch, tc.zlimit)};
    smem_launch(shared);
    L = Launch{fn, pc, pa, pb, pbias, pres, tc.M, tc.N, tc.K, lda, ldb, ldc, tc.batch, sA, sB, sC, tc.alpha, tc.beta, tc.rs,
               tc.act, flags};

    // Snapshots of every input buffer's pages, to check nothing but C's matrices changed.
    auto pages = [](const void *p) {
        const Buf *b = gfind(p, 0);
        return std::vector<uint8_t>(b->map + kPage, b->map + b->mlen - kPage);
    };
    const auto snapA = pages(pa), snapB = pages(pb);
    const Policy pols[] = {{0, 1, false, "lowest-first/lazy"}, {1, 2, true, "highest-first/nan"}, {2, 2, false, "random/nan"},
                           {2, 0, true, "random/eager"}};
    std::vector<uint8_t> first;
    for (const Policy &p : pols) {
        pol = p;
        rng.seed(seed * 7 + 1);
        memcpy(pc, c0.data(), nC * oes);
        if (!run_grid(grid)) return fmt("[%s] %s", p.name, g_err.c_str());
        for (auto &b : bufs)
            if (!outside_intact(b)) return fmt("[%s] a write outside an allocation (its page's 0xff bytes changed)", p.name);
        if (pages(pa) != snapA || pages(pb) != snapB) return fmt("[%s] A or B was modified", p.name);
        if (first.empty())
            first.assign(pc, pc + nC * oes);
        else if (memcmp(first.data(), pc, nC * oes) != 0)
            return fmt("[%s] result differs bitwise from [%s] (a race or order dependence)", p.name, pols[0].name);
    }

    // Against float64, every element of C's buffer.
    const int kstep = tc.prec == BF16 ? 16 : tc.prec == TF32 ? 8 : 1;
    const double acc_rel = ((tc.K + kstep - 1) / kstep + 2) * 0x1p-24;
    int bad = 0;
    double worst = 0;
    std::string first_bad, worst_at;
    for (long long i = 0; i < nC; i++) {
        int z, m, n;
        double got;
        if (tc.outbf16) {
            uint16_t h;
            memcpy(&h, pc + 2 * i, 2);
            got = bf16f(h);
        } else {
            got = ((float *)pc)[i];
        }
        if (!insideC(i, z, m, n)) {
            const bool same = memcmp(pc + i * oes, c0.data() + i * oes, oes) == 0;
            if (!same && bad++ == 0) first_bad = fmt("element %lld outside C (batch %d row %d col %d) written: %g", i, z, m, n, got);
            continue;
        }
        double acc = 0, s = 0;
        for (int k = 0; k < tc.K; k++) {
            const double x = tc.ta ? xa[z * sA + (long long)k * lda + m] : xa[z * sA + (long long)m * lda + k];
            const double y = tc.tb ? xb[z * sB + (long long)n * ldb + k] : xb[z * sB + (long long)k * ldb + n];
            acc += x * y;
            s += std::fabs(x * y);
        }
        double v = tc.alpha * acc, pre = std::fabs(tc.alpha) * s;
        if (tc.beta != 0) v += (double)tc.beta * cold[i], pre += std::fabs((double)tc.beta * cold[i]);
        if (tc.bias) v += bias[n], pre += std::fabs(bias[n]);
        v = act_ref(v, tc.act);
        double post = std::fabs(v);
        if (tc.res) v += (double)tc.rs * res[i], post += std::fabs((double)tc.rs * res[i]);
        double tol = 1.13 * (acc_rel * std::fabs(tc.alpha) * s + 0x1p-21 * pre) + 0x1p-19 * post + 1e-30;
        if (tc.outbf16) tol += 0x1p-8 * std::fabs(v);
        if (std::isnan(v)) {  // NaN in, NaN out (through every activation)
            if (!std::isnan(got) && bad++ == 0) first_bad = fmt("C[%d][%d][%d] = %.9g, want NaN", z, m, n, got);
            continue;
        }
        const double d = std::fabs(got - v);
        if (!(d <= tol) && bad++ == 0)
            first_bad = fmt("C[%d][%d][%d] = %.9g, want %.9g (diff %.3g, tolerance %.3g)", z, m, n, got, v, d, tol);
        if (d / tol > worst) {
            worst = d / tol;
            worst_at = fmt("C[%d][%d][%d] = %.9g, want %.9g (diff %.3g, tolerance %.3g)", z, m, n, got, v, d, tol);
        }
    }
    gfree_all();
    if (bad) return fmt("%d bad elements, first: %s", bad, first_bad.c_str());
    info = fmt("flags %lld, grid %u x %u, worst error %.3f of the tolerance at %s", flags, grid.x, grid.z, worst, worst_at.c_str());
    return "";
}

// check_raster: gemm.cu's grouped block order visits every (row tile, column tile) exactly once.
// es_off is a base offset of one element: element-aligned, not 16-byte aligned.
int es_off(Prec p) { return p == BF16 ? 2 : 4; }

std::string check_raster() {
    auto one = [](int tm, int tn) -> std::string {
        std::vector<uint8_t> seen((size_t)tm * tn, 0);
        for (long long p = 0; p < (long long)tm * tn; p++) {
            const int2 t = gemm_host_raster((int)p, tm, tn);
            if (t.x < 0 || t.x >= tm || t.y < 0 || t.y >= tn) return fmt("raster(%lld, %d, %d) = (%d, %d) out of range", p, tm, tn, t.x, t.y);
            if (seen[(size_t)t.x * tn + t.y]++) return fmt("raster(%lld, %d, %d) = (%d, %d) visited twice", p, tm, tn, t.x, t.y);
        }
        return "";
    };
    for (int tm = 1; tm <= 70; tm++)
        for (int tn = 1; tn <= 70; tn++)
            if (auto e = one(tm, tn); !e.empty()) return e;
    // The model's shapes and large grids (M = 65536 rows in 64- and 128-row tiles, 2^20 rows, N up to 2^15).
    const int big[][2] = {{1024, 3}, {512, 1}, {8193, 7}, {16384, 2}, {3, 65535}, {9, 32768}};
    for (auto &b : big)
        if (auto e = one(b[0], b[1]); !e.empty()) return e;
    return "";
}

}  // namespace

void on_fault(int sig, siginfo_t *si, void *) {
    char buf[200];
    const int n = snprintf(buf, sizeof buf, "emu: FAIL: signal %d at address %p while a kernel ran: an out-of-bounds access (guard page)\n",
                           sig, si->si_addr);
    if (write(1, buf, n) < 0) {}
    _exit(4);
}

int main(int argc, char **argv) {
    static char altstack[1 << 16];
    stack_t ss{altstack, 0, sizeof altstack};
    sigaltstack(&ss, nullptr);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
    setvbuf(stdout, nullptr, _IOLBF, 0);
    bool quick = false, verbose = false;
    std::string only;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-quick")) quick = true;
        else if (!strcmp(argv[i], "-v")) verbose = true;
        else if (!strcmp(argv[i], "-run") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "-forcevec")) force_vec = true;  // self-test: the alignment checks must fire
        else {
            fprintf(stderr, "usage: gemm_emu [-quick] [-v] [-run substring-of-the-case-line] [-forcevec]\n");
            return 2;
        }
    }
    smem_init();
    int failed = 0, ran = 0;
    if (auto e = check_raster(); !e.empty()) {
        printf("FAIL raster: %s\n", e.c_str());
        failed++;
    } else {
        printf("ok   raster: every tile exactly once (tm, tn <= 70 and large grids)\n");
    }

    static const int kPads[] = {0, -1, 3};
    std::vector<Case> cases;
    // Every tensor-core kernel (precision x tile x transposes) at awkward sizes, with aligned rows (cp.async,
    // pad 0 or 8: K edges inside a 16-byte chunk use src-size < 16) and unaligned ones (pad 3, or an odd base
    // offset: the element-wise path), and an epilogue variant per case.
    // K = 333: 11 (bf16) or 21 (tf32) k-slices, the 4-stage pipeline wraps around several times.
    const int sizes[][3] = {{1, 1, 1}, {37, 70, 45}, {130, 135, 40}, {70, 129, 17}, {65, 9, 100}, {33, 20, 333}};
    int vi = 0;
    for (Prec p : {BF16, TF32, FP32})
        for (char tile : {'l', 's'}) {
            if (p == FP32 && tile == 's') continue;
            for (int tr = 0; tr < 4; tr++)
                for (int si = 0; si < 6; si++) {
                    if (quick && si != 2 && si != 3 && si != 5) continue;
                    Case c{p, tile, (tr & 1) != 0, (tr & 2) != 0, sizes[si][0], sizes[si][1], sizes[si][2], kPads[(si + tr) % 3]};
                    switch (vi++ % 6) {
                    case 0: break;
                    case 1: c.alpha = 0.75f, c.beta = -0.5f, c.bias = true, c.offC = 4; break;
                    case 2: c.act = 1, c.bias = true, c.offA = es_off(p); break;
                    case 3: c.act = 2, c.res = true, c.rs = 0.3f; break;
                    case 4: c.act = 3, c.outbf16 = true, c.bias = c.res = true, c.rs = 2, c.offB = es_off(p); break;
                    case 5: c.res = c.inplace = true, c.rs = 1, c.beta = 0.25f, c.alpha = 1.5f; break;
                    }
                    cases.push_back(c);
                }
        }
    // Batches: strided, broadcast A or B, gaps in C, fewer grid z than batches (the kernels loop).
    for (Prec p : {BF16, TF32, FP32})
        for (int tr = 0; tr < 4; tr++) {
            if (quick && tr > 1) continue;
            Case c{p, tr % 2 ? 'l' : 's', (tr & 1) != 0, (tr & 2) != 0, 33, 40, 100, tr % 2 ? -1 : 1};
            c.batch = 3, c.zlimit = 2, c.gapC = 5, c.bias = true, c.bcastA = tr == 2, c.bcastB = tr == 3;
            cases.push_back(c);
        }
    // NaN propagation through the epilogue (every activation, both output types).
    for (Prec p : {BF16, TF32, FP32})
        for (int act = 0; act < 4; act++) {
            Case c{p, 's', false, act % 2 == 1, 20, 24, 40, -1};
            c.nanA = true, c.act = act, c.bias = true, c.outbf16 = act == 3;
            cases.push_back(c);
        }
    // More than 8 row tiles (a full group of the grouped order and a partial one), skinny like the model's.
    for (Prec p : {BF16, TF32}) {
        Case c{p, 's', false, false, 64 * 9 + 5, 20, 24, 0};
        c.act = 2;
        cases.push_back(c);
    }
    if (quick) cases.erase(cases.begin() + std::min<size_t>(cases.size(), 1000), cases.end());

    for (size_t i = 0; i < cases.size(); i++) {
        if (!only.empty() && cases[i].str().find(only) == std::string::npos) continue;
        std::string info;
        const std::string e = run_case(cases[i], 1000 + i, info);
        ran++;
        if (!e.empty()) {
            failed++;
            printf("FAIL %s: %s\n", cases[i].str().c_str(), e.c_str());
            gfree_all();
        } else {
            printf("ok   %s\n", cases[i].str().c_str());
            if (verbose) printf("     %s\n", info.c_str());
        }
        fflush(stdout);
    }
    printf("%s: %d cases, %d failed\n", failed ? "FAIL" : "ok", ran, failed);
    return failed ? 1 : 0;
}
