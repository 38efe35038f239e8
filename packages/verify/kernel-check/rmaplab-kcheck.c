/*
 * rmaplab-kcheck — run the kernel-executable statements of an rmaplab scenario
 * (.rmap) on the running Linux kernel and print one JSON observation line per
 * `observe`, in the format of the scenario contract (shared/scenario-language.md).
 *
 * Design (see tools/kernel-check/README.md for the long version):
 *  - The controller (this process) parses the whole scenario first (syntax
 *    errors exit 2 before anything runs), then executes it statement by
 *    statement.
 *  - Every scenario process is a real process. `spawn P` forks a worker from
 *    the controller; `P: fork C` makes worker P fork(). Workers are driven over
 *    a SOCK_SEQPACKET socketpair: one request per statement, one reply
 *    (return value + errno). The socket of a forked child is created by the
 *    controller and handed to P with SCM_RIGHTS before P forks.
 *  - Address layout: before forking any worker the controller reserves a big
 *    PROT_NONE area (NSLOTS slots of SLOT_SIZE = 64 MiB, 2 MiB aligned). Every
 *    mmap / `mremap ... move` takes the next unused slot (globally, across all
 *    processes): the worker first munmaps the whole slot (so the region can
 *    grow in place) and then maps at the slot start with MAP_FIXED. Regions get
 *    MADV_NOHUGEPAGE.
 *  - The controller keeps the bookkeeping (base, size, per-page protection) of
 *    every region of every process, so it refuses accesses that would kill the
 *    worker. Workers also catch SIGSEGV/SIGBUS with sigsetjmp as a safety net.
 *  - `observe` reads /proc/PID/pagemap of every live worker (the controller is
 *    root, so it sees PFNs), then /proc/kpagecount and /proc/kpageflags.
 *    Before reading, it drains the per-CPU LRU/mlock batches of all CPUs (an
 *    mlock() of a private page calls lru_add_drain_all()), so that flags such
 *    as unevictable are settled (disable with --no-drain).
 *  - All processes are pinned to CPU 0 by default (--no-pin to disable), which
 *    makes the per-CPU batching behaviour of the kernel deterministic.
 *
 * Exit codes: 0 ok, 1 scenario or kernel error, 2 usage or syntax error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __linux__
#error "rmaplab-kcheck only runs on Linux"
#endif

#define KCHECK_VERSION "0.1.0"
#define PG 4096UL
#define SLOT_SIZE (64UL << 20) /* 64 MiB per slot: room to grow in place */
#define NSLOTS 256             /* 16 GiB of PROT_NONE reservation */
#define MAXNAME 64
#define MAXPROC 128
#define MAXREG 128
#define MAXFILE 64

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h, and the
 * kernel-internal KPF_MLOCKED = 33 from include/linux/kernel-page-flags.h) */
#define KPF_ANON 12
#define KPF_SWAPBACKED 14
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_UNEVICTABLE 18
#define KPF_KSM 21
#define KPF_THP 22
#define KPF_ZERO_PAGE 24
#define KPF_MLOCKED 33

/* ------------------------------------------------------------------ */
/* options */
static int opt_strict, opt_verbose, opt_pin = 1, opt_drain = 1, opt_smart_scan_off = 1;
static double opt_ksm_timeout = 60.0;
static const char *opt_tmpbase;

/* ------------------------------------------------------------------ */
/* statements */
enum op {
  OP_SPAWN, OP_KSM, OP_OBSERVE, OP_SET, OP_SIMONLY,
  OP_MMAP, OP_READ, OP_WRITE, OP_FORK, OP_EXIT, OP_MUNMAP, OP_MPROTECT,
  OP_MREMAP, OP_MREMAP_MOVE, OP_MLOCK, OP_MUNLOCK, OP_MADVISE
};
enum kind { K_ANON_PRIV, K_ANON_SHARED, K_FILE };
enum pstate { S_UNMAPPED = 0, S_NONE, S_R, S_RW };

typedef struct {
  int line, step, op;
  char proc[MAXNAME];   /* P */
  char name[MAXNAME];   /* REGION / child / set key / simonly verb */
  char arg[MAXNAME];    /* VALUE / FILE / set value */
  long n1, n2;          /* PAGES, PAGE/FIRST, COUNT/LAST */
  int kind, shared, prot, advice, has_value, has_range;
} stmt_t;

static stmt_t *stmts;
static int nstmts;

/* ------------------------------------------------------------------ */
/* runtime state */
typedef struct {
  char name[MAXNAME];
  int kind, file, shared;
  unsigned long base;   /* current start address of page 0 */
  long size;            /* latest size in pages */
  long backing;         /* shared anon: pages of the shmem object */
  unsigned char *st;    /* per-page enum pstate, `size` entries */
} region_t;

typedef struct {
  char name[MAXNAME];
  pid_t pid;
  int sock, alive, used;
  int ksm_mm;           /* the mm is on KSM's list (MMF_VM_MERGEABLE): ksmd scans it */
  region_t reg[MAXREG];
  int nreg;
} proc_t;

typedef struct {
  char name[MAXNAME];
  char path[PATH_MAX];
  long pages;
} file_t;

static proc_t procs[MAXPROC];
static int nprocs;
static file_t files[MAXFILE];
static int nfiles;
static char tmpdir[PATH_MAX - 64];
static int tmpdir_made;
static unsigned long slot_base;
static int next_slot;
static uint64_t unique_counter;
static int kpagecount_fd = -1, kpageflags_fd = -1;
static pid_t controller_pid;
static char *drain_page;

/* KSM sysfs settings saved for restore */
#define KSM_DIR "/sys/kernel/mm/ksm/"
static const char *ksm_keys[] = {"smart_scan", "advisor_mode", "pages_to_scan", "sleep_millisecs", "run"};
#define NKSMKEYS 5
static char ksm_saved[NKSMKEYS][64];
static int ksm_have[NKSMKEYS];
static int ksm_saved_ok;

/* ------------------------------------------------------------------ */
/* worker protocol */
enum wop { W_MMAP = 1, W_READ, W_WRITE, W_FORK, W_EXIT, W_MUNMAP, W_MPROTECT,
           W_MREMAP, W_MLOCK, W_MUNLOCK, W_MADVISE, W_HELLO };

typedef struct {
  int op;
  int prot, flags, advice, unique;
  unsigned long addr, len, newlen, newaddr;
  long npages;
  uint64_t seed;
  char path[PATH_MAX];
} req_t;

typedef struct {
  int op;
  long rc;
  int err;
  long fault_page;     /* page index of the access that faulted (safety net) */
  unsigned long addr;  /* new address after mremap */
  pid_t pid;
} rsp_t;

/* ------------------------------------------------------------------ */
static void cleanup_async(void);

static void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("rmaplab-kcheck: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  cleanup_async();
  exit(2);
}

static void fail(int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout);
  if (line > 0)
    fprintf(stderr, "rmaplab-kcheck: line %d: ", line);
  else
    fputs("rmaplab-kcheck: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  cleanup_async();
  exit(1);
}

static void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("rmaplab-kcheck: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* content patterns */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ULL; }
  return h;
}

static void fill_page(void *buf, uint64_t seed) {
  uint64_t *w = buf, x = seed;
  for (size_t i = 0; i < PG / 8; i++) w[i] = splitmix64(&x) | 1; /* never all-zero */
}

/* ------------------------------------------------------------------ */
/* small io helpers */
static int send_fd_msg(int sock, const void *buf, size_t len, int fd) {
  struct iovec iov = {(void *)buf, len};
  struct msghdr mh = {0};
  char cbuf[CMSG_SPACE(sizeof(int))];
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (fd >= 0) {
    memset(cbuf, 0, sizeof cbuf);
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t r;
  do r = sendmsg(sock, &mh, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  return r == (ssize_t)len ? 0 : -1;
}

static ssize_t recv_fd_msg(int sock, void *buf, size_t len, int *fd) {
  struct iovec iov = {buf, len};
  struct msghdr mh = {0};
  char cbuf[CMSG_SPACE(sizeof(int))];
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t r;
  do r = recvmsg(sock, &mh, 0); while (r < 0 && errno == EINTR);
  if (fd) {
    *fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof(int));
  }
  return r;
}

static void close_all_but(int keep1, int keep2) {
  DIR *d = opendir("/proc/self/fd");
  int fds[1024], n = 0;
  if (d) {
    struct dirent *e;
    int dfd = dirfd(d);
    while ((e = readdir(d)) && n < 1024) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      int fd = atoi(e->d_name);
      if (fd > 2 && fd != keep1 && fd != keep2 && fd != dfd) fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++) close(fds[i]);
  } else {
    for (int fd = 3; fd < 1024; fd++)
      if (fd != keep1 && fd != keep2) close(fd);
  }
}

/* ------------------------------------------------------------------ */
/* worker */
static sigjmp_buf w_jmp;
static volatile sig_atomic_t w_in_access;

static void w_fault(int sig) {
  if (w_in_access) siglongjmp(w_jmp, sig);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void worker_loop(int sock) __attribute__((noreturn));

static void worker_setup(int sock) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = w_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  signal(SIGINT, SIG_IGN);   /* the controller decides when we die */
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN);  /* forked children are reaped automatically */
  (void)sock;
}

static void worker_loop(int sock) {
  static unsigned char pagebuf[PG] __attribute__((aligned(64)));
  for (;;) {
    req_t rq;
    rsp_t rs;
    int passed_fd = -1;
    ssize_t n = recv_fd_msg(sock, &rq, sizeof rq, &passed_fd);
    if (n <= 0) _exit(0); /* controller gone */
    memset(&rs, 0, sizeof rs);
    rs.op = rq.op;
    rs.fault_page = -1;
    errno = 0;
    switch (rq.op) {
    case W_MMAP: {
      int fd = -1;
      if (rq.path[0]) {
        fd = open(rq.path, O_RDWR);
        if (fd < 0) { rs.rc = -1; rs.err = errno; break; }
      }
      munmap((void *)rq.addr, SLOT_SIZE);
      void *p = mmap((void *)rq.addr, rq.len, rq.prot, rq.flags | MAP_FIXED, fd, 0);
      if (p == MAP_FAILED) { rs.rc = -1; rs.err = errno; }
      else madvise(p, rq.len, MADV_NOHUGEPAGE);
      if (fd >= 0) close(fd);
      break;
    }
    case W_READ:
    case W_WRITE: {
      volatile long i = 0;
      int sig = sigsetjmp(w_jmp, 1);
      if (sig) {
        w_in_access = 0;
        rs.rc = -1;
        rs.err = EFAULT;
        rs.fault_page = i;
        break;
      }
      for (; i < rq.npages; i++) {
        volatile unsigned char *p = (volatile unsigned char *)(rq.addr + (unsigned long)i * PG);
        if (rq.op == W_READ) {
          w_in_access = 1;
          (void)*p;
          w_in_access = 0;
        } else {
          uint64_t seed = rq.seed;
          if (rq.unique) { uint64_t x = rq.seed + (uint64_t)i; seed = splitmix64(&x); }
          fill_page(pagebuf, seed);
          w_in_access = 1;
          memcpy((void *)p, pagebuf, PG);
          w_in_access = 0;
        }
      }
      break;
    }
    case W_FORK: {
      if (passed_fd < 0) { rs.rc = -1; rs.err = EBADF; break; }
      pid_t c = fork();
      if (c < 0) { rs.rc = -1; rs.err = errno; close(passed_fd); break; }
      if (c == 0) {
        close(sock);
        close_all_but(passed_fd, -1);
        int s = passed_fd;
        rsp_t hello;
        memset(&hello, 0, sizeof hello);
        hello.op = W_HELLO;
        hello.pid = getpid();
        if (send_fd_msg(s, &hello, sizeof hello, -1) < 0) _exit(1);
        worker_loop(s);
      }
      close(passed_fd);
      rs.pid = c;
      break;
    }
    case W_EXIT:
      send_fd_msg(sock, &rs, sizeof rs, -1);
      _exit(0);
    case W_MUNMAP:
      rs.rc = munmap((void *)rq.addr, rq.len);
      break;
    case W_MPROTECT:
      rs.rc = mprotect((void *)rq.addr, rq.len, rq.prot);
      break;
    case W_MREMAP: {
      void *p;
      if (rq.flags & MREMAP_FIXED) {
        munmap((void *)rq.newaddr, SLOT_SIZE);
        p = mremap((void *)rq.addr, rq.len, rq.newlen, rq.flags, (void *)rq.newaddr);
      } else {
        p = mremap((void *)rq.addr, rq.len, rq.newlen, rq.flags);
      }
      if (p == MAP_FAILED) rs.rc = -1;
      else rs.addr = (unsigned long)p;
      break;
    }
    case W_MLOCK:
      rs.rc = mlock((void *)rq.addr, rq.len);
      break;
    case W_MUNLOCK:
      rs.rc = munlock((void *)rq.addr, rq.len);
      break;
    case W_MADVISE:
      rs.rc = madvise((void *)rq.addr, rq.len, rq.advice);
      break;
    default:
      rs.rc = -1;
      errno = EINVAL;
    }
    if (rs.rc < 0 && !rs.err) rs.err = errno;
    if (passed_fd >= 0 && rq.op != W_FORK) close(passed_fd);
    if (send_fd_msg(sock, &rs, sizeof rs, -1) < 0) _exit(0);
  }
}

/* ------------------------------------------------------------------ */
/* controller: process & region bookkeeping */
static proc_t *find_proc(const char *name, int want_alive) {
  for (int i = 0; i < nprocs; i++)
    if (procs[i].used && !strcmp(procs[i].name, name) && (!want_alive || procs[i].alive))
      return &procs[i];
  return NULL;
}

static region_t *find_region(proc_t *p, const char *name) {
  for (int i = 0; i < p->nreg; i++)
    if (!strcmp(p->reg[i].name, name)) return &p->reg[i];
  return NULL;
}

static unsigned long take_slot(int line) {
  if (next_slot >= NSLOTS) fail(line, "out of address slots (%d regions/moves at most)", NSLOTS);
  return slot_base + (unsigned long)next_slot++ * SLOT_SIZE;
}

static rsp_t call_worker(int line, proc_t *p, req_t *rq, int passfd) {
  rsp_t rs;
  if (send_fd_msg(p->sock, rq, sizeof *rq, passfd) < 0)
    fail(line, "worker %s (pid %d) is gone", p->name, (int)p->pid);
  ssize_t n = recv_fd_msg(p->sock, &rs, sizeof rs, NULL);
  if (n != (ssize_t)sizeof rs)
    fail(line, "worker %s (pid %d) died unexpectedly", p->name, (int)p->pid);
  return rs;
}

static void wait_eof(proc_t *p) {
  char b[64];
  ssize_t n;
  do n = recv(p->sock, b, sizeof b, 0); while (n > 0 || (n < 0 && errno == EINTR));
}

static void reap_children_nohang(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

/* ------------------------------------------------------------------ */
/* files */
static int find_or_create_file(int line, const char *name, long pages) {
  int idx = -1;
  for (int i = 0; i < nfiles; i++)
    if (!strcmp(files[i].name, name)) idx = i;
  if (idx < 0) {
    if (nfiles >= MAXFILE) fail(line, "too many files");
    idx = nfiles++;
    snprintf(files[idx].name, MAXNAME, "%s", name);
    snprintf(files[idx].path, PATH_MAX, "%s/f%d", tmpdir, idx);
    files[idx].pages = 0;
    int fd = open(files[idx].path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) fail(line, "cannot create file %s: %s", files[idx].path, strerror(errno));
    close(fd);
  }
  file_t *f = &files[idx];
  if (f->pages < pages) {
    int fd = open(f->path, O_RDWR);
    if (fd < 0) fail(line, "cannot open file %s: %s", f->path, strerror(errno));
    unsigned char buf[PG];
    for (long pg = f->pages; pg < pages; pg++) {
      fill_page(buf, fnv1a(f->name) ^ ((uint64_t)(idx + 1) << 48) ^ (uint64_t)pg * 0x1000193ULL ^ 0x5a5a5a5a);
      /* one page per write(): keeps the page-cache folios order-0 */
      if (pwrite(fd, buf, PG, (off_t)(pg * PG)) != (ssize_t)PG)
        fail(line, "cannot write file %s: %s", f->path, strerror(errno));
    }
    if (fsync(fd) < 0) fail(line, "fsync %s: %s", f->path, strerror(errno));
    close(fd);
    f->pages = pages;
  }
  return idx;
}

/* ------------------------------------------------------------------ */
/* sysfs helpers */
static int read_small(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
  return 0;
}

static int write_small(const char *path, const char *val) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t n = write(fd, val, strlen(val));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(val) ? 0 : -1;
}

static long ksm_get(const char *key) {
  char path[128], buf[64];
  snprintf(path, sizeof path, KSM_DIR "%s", key);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  return atol(buf);
}

static int ksm_set(const char *key, const char *val) {
  char path[128];
  snprintf(path, sizeof path, KSM_DIR "%s", key);
  return write_small(path, val);
}

/* advisor_mode reads like "[none] scan-time": extract the bracketed word */
static void bracketed(char *s) {
  char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
  if (a && b) { memmove(s, a + 1, (size_t)(b - a - 1)); s[b - a - 1] = 0; }
}

static void ksm_save(void) {
  for (int i = 0; i < NKSMKEYS; i++) {
    char path[128];
    snprintf(path, sizeof path, KSM_DIR "%s", ksm_keys[i]);
    ksm_have[i] = read_small(path, ksm_saved[i], sizeof ksm_saved[i]) == 0;
    if (ksm_have[i] && !strcmp(ksm_keys[i], "advisor_mode")) bracketed(ksm_saved[i]);
  }
  ksm_saved_ok = 1;
}

/* async-signal-safe enough: open/write/close only */
static void ksm_restore(void) {
  if (!ksm_saved_ok) return;
  for (int i = 0; i < NKSMKEYS; i++) {
    if (!ksm_have[i]) continue;
    char path[128] = KSM_DIR;
    strcat(path, ksm_keys[i]);
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
      ssize_t r = write(fd, ksm_saved[i], strlen(ksm_saved[i]));
      (void)r;
      close(fd);
    }
  }
  ksm_saved_ok = 0;
}

/* ------------------------------------------------------------------ */
/* cleanup: kill workers, reap, remove temp files, restore KSM */
static volatile sig_atomic_t cleaning;

static void cleanup_async(void) {
  if (cleaning || getpid() != controller_pid) return;
  cleaning = 1;
  for (int i = 0; i < nprocs; i++)
    if (procs[i].used && procs[i].alive && procs[i].pid > 0) kill(procs[i].pid, SIGKILL);
  /* we are a child subreaper: every worker ends up as our child */
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  for (int i = 0; i < nfiles; i++) unlink(files[i].path);
  if (tmpdir_made) rmdir(tmpdir);
  ksm_restore();
}

static void on_signal(int sig) {
  cleanup_async();
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

/* ------------------------------------------------------------------ */
/* access checks (so that workers never die) */
static void check_access(const stmt_t *s, proc_t *p, region_t *r, long a, long b, int write) {
  for (long pg = a; pg <= b; pg++) {
    if (pg >= r->size)
      fail(s->line, "%s %s:%s:%ld: page out of range (region has %ld pages)", write ? "write" : "read",
           p->name, r->name, pg, r->size);
    int st = r->st[pg];
    if (st == S_UNMAPPED)
      fail(s->line, "%s %s:%s:%ld: page is not mapped (the process would get SIGSEGV)", write ? "write" : "read",
           p->name, r->name, pg);
    if (st == S_NONE)
      fail(s->line, "%s %s:%s:%ld: page is PROT_NONE (the process would get SIGSEGV)", write ? "write" : "read",
           p->name, r->name, pg);
    if (write && st == S_R)
      fail(s->line, "write %s:%s:%ld: page is read-only (the process would get SIGSEGV)", p->name, r->name, pg);
    long backing = r->kind == K_FILE ? files[r->file].pages : r->kind == K_ANON_SHARED ? r->backing : LONG_MAX;
    if (pg >= backing)
      fail(s->line, "%s %s:%s:%ld: page is beyond the end of the %s object (the process would get SIGBUS)",
           write ? "write" : "read", p->name, r->name, pg, r->kind == K_FILE ? "file" : "shmem");
  }
}

static proc_t *need_proc(const stmt_t *s) {
  proc_t *p = find_proc(s->proc, 1);
  if (!p) fail(s->line, "unknown process %s", s->proc);
  return p;
}

static region_t *need_region(const stmt_t *s, proc_t *p) {
  region_t *r = find_region(p, s->name);
  if (!r) fail(s->line, "process %s has no region %s", p->name, s->name);
  return r;
}

static void syscall_fail(const stmt_t *s, const char *what, int err) {
  fail(s->line, "%s: %s (errno %d %s)", what, strerror(err), err, strerrorname_np(err) ? strerrorname_np(err) : "");
}

/* ------------------------------------------------------------------ */
/* observe */
typedef struct { uint64_t pfn; long seq; int proc, reg; long page; } ent_t;

static int ent_cmp(const void *a, const void *b) {
  const ent_t *x = a, *y = b;
  if (x->pfn != y->pfn) return x->pfn < y->pfn ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct { long first, start, n; } grp_t;
static int grp_cmp(const void *a, const void *b) {
  const grp_t *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

typedef struct { char *s; size_t len, cap; } sbuf_t;
static void sb_putn(sbuf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s) { perror("realloc"); exit(1); }
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}
static void sb_printf(sbuf_t *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  sb_putn(b, tmp, (size_t)n);
}

static void drain_lru(void) {
  if (!opt_drain) return;
  /* do_mlock() starts with lru_add_drain_all(): it flushes the per-CPU LRU
   * and mlock folio batches of every CPU, so PG_unevictable / LRU state is
   * settled when we read kpageflags. */
  if (mlock(drain_page, PG) == 0) munlock(drain_page, PG);
}

static void do_observe(const stmt_t *s) {
  size_t cap = 1024, n = 0, acap = 256, na = 0;
  ent_t *e = malloc(cap * sizeof *e);
  ent_t *ab = malloc(acap * sizeof *ab);
  char *swapped = calloc(1, 1);
  long seq = 0;
  drain_lru();
  for (int pi = 0; pi < nprocs; pi++) {
    proc_t *p = &procs[pi];
    if (!p->used || !p->alive) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)p->pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) fail(s->line, "cannot open %s: %s", path, strerror(errno));
    for (int ri = 0; ri < p->nreg; ri++) {
      region_t *r = &p->reg[ri];
      for (long pg = 0; pg < r->size; pg++, seq++) {
        uint64_t pm = 0;
        unsigned long va = r->base + (unsigned long)pg * PG;
        if (pread(fd, &pm, 8, (off_t)(va / PG * 8)) != 8) pm = 0;
        int present = (pm >> 63) & 1, swp = (pm >> 62) & 1;
        uint64_t pfn = pm & ((1ULL << 55) - 1);
        if (r->st[pg] == S_UNMAPPED) present = 0, swp = 0;
        if (present && pfn == 0)
          fail(s->line, "pagemap shows no PFNs (needs CAP_SYS_ADMIN)");
        if (present) {
          if (n == cap) e = realloc(e, (cap *= 2) * sizeof *e);
          e[n++] = (ent_t){pfn, seq, pi, ri, pg};
        } else {
          if (na == acap) ab = realloc(ab, (acap *= 2) * sizeof *ab);
          ab[na++] = (ent_t){swp, seq, pi, ri, pg};
        }
      }
    }
    close(fd);
  }
  qsort(e, n, sizeof *e, ent_cmp);
  grp_t *g = malloc((n + 1) * sizeof *g);
  size_t ng = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && e[j].pfn == e[i].pfn) j++;
    g[ng++] = (grp_t){e[i].seq, (long)i, (long)(j - i)};
    i = j;
  }
  qsort(g, ng, sizeof *g, grp_cmp);
  sbuf_t b = {0};
  sb_printf(&b, "{\"step\":%d,\"pages\":[", s->step);
  for (size_t gi = 0; gi < ng; gi++) {
    uint64_t pfn = e[g[gi].start].pfn, cnt = 0, fl = 0;
    if (pread(kpagecount_fd, &cnt, 8, (off_t)(pfn * 8)) != 8) fail(s->line, "cannot read /proc/kpagecount");
    if (pread(kpageflags_fd, &fl, 8, (off_t)(pfn * 8)) != 8) fail(s->line, "cannot read /proc/kpageflags");
    sb_printf(&b, "%s{\"mapcount\":%llu,\"flags\":[", gi ? "," : "", (unsigned long long)cnt);
    static const struct { int bit; const char *name; } fm[] = {
        {KPF_ANON, "anon"}, {KPF_KSM, "ksm"}, {KPF_ZERO_PAGE, "zero"},
        {KPF_MLOCKED, "mlocked"}, {KPF_UNEVICTABLE, "unevictable"}, {KPF_SWAPBACKED, "swapbacked"}};
    int first = 1;
    for (size_t k = 0; k < sizeof fm / sizeof fm[0]; k++)
      if ((fl >> fm[k].bit) & 1) { sb_printf(&b, "%s\"%s\"", first ? "" : ",", fm[k].name); first = 0; }
    sb_printf(&b, "],\"mappings\":[");
    for (long k = 0; k < g[gi].n; k++) {
      ent_t *x = &e[g[gi].start + k];
      sb_printf(&b, "%s\"%s:%s:%ld\"", k ? "," : "", procs[x->proc].name, procs[x->proc].reg[x->reg].name, x->page);
    }
    sb_printf(&b, "],\"pfn\":%llu,\"kpf\":\"0x%llx\"}", (unsigned long long)pfn, (unsigned long long)fl);
  }
  sb_printf(&b, "],\"absent\":[");
  int nsw = 0;
  for (size_t i = 0; i < na; i++) {
    sb_printf(&b, "%s\"%s:%s:%ld\"", i ? "," : "", procs[ab[i].proc].name, procs[ab[i].proc].reg[ab[i].reg].name,
              ab[i].page);
    if (ab[i].pfn) nsw++;
  }
  sb_printf(&b, "]");
  if (nsw) {
    sb_printf(&b, ",\"swapped\":[");
    int k = 0;
    for (size_t i = 0; i < na; i++)
      if (ab[i].pfn)
        sb_printf(&b, "%s\"%s:%s:%ld\"", k++ ? "," : "", procs[ab[i].proc].name,
                  procs[ab[i].proc].reg[ab[i].reg].name, ab[i].page);
    sb_printf(&b, "]");
  }
  sb_printf(&b, "}\n");
  fputs(b.s, stdout);
  fflush(stdout);
  free(b.s);
  free(g);
  free(e);
  free(ab);
  free(swapped);
}

/* ------------------------------------------------------------------ */
/* ksm */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void ksm_need(int line) {
  if (access(KSM_DIR "run", F_OK) != 0)
    fail(line, "KSM is not available on this kernel (" KSM_DIR " missing; CONFIG_KSM=n)");
}

static void ksm_checked_set(int line, const char *k, const char *v) {
  if (ksm_set(k, v) < 0) fail(line, "cannot write %s to " KSM_DIR "%s: %s", v, k, strerror(errno));
}

static void do_ksm(const stmt_t *s) {
  ksm_need(s->line);
  /* ksmd sleeps while no mm is on its list (ksmd_should_run()), so full_scans would never
   * advance: with no mergeable process there is nothing to merge, and nothing to wait for. */
  int any = 0;
  for (int i = 0; i < nprocs; i++)
    if (procs[i].used && procs[i].alive && procs[i].ksm_mm) any = 1;
  if (!any) {
    if (opt_verbose) note("line %d: ksm: no process has a mergeable private region, nothing to scan", s->line);
    return;
  }
  if (access(KSM_DIR "advisor_mode", F_OK) == 0) ksm_checked_set(s->line, "advisor_mode", "none");
  if (opt_smart_scan_off && access(KSM_DIR "smart_scan", F_OK) == 0) ksm_checked_set(s->line, "smart_scan", "0");
  ksm_checked_set(s->line, "pages_to_scan", "10000");
  ksm_checked_set(s->line, "sleep_millisecs", "5");
  long f0 = ksm_get("full_scans");
  ksm_checked_set(s->line, "run", "1");
  double t0 = now_s();
  long last_scan = -1, stable = 0, counters[3] = {-1, -1, -1};
  long need = f0 + 3;
  for (;;) {
    if (now_s() - t0 > opt_ksm_timeout) {
      ksm_set("run", "0");
      fail(s->line, "ksm: no fixed point after %.0f s (%ld full scans)", opt_ksm_timeout, ksm_get("full_scans") - f0);
    }
    long fs = ksm_get("full_scans");
    if (fs >= need && fs != last_scan) {
      long c[3] = {ksm_get("pages_shared"), ksm_get("pages_sharing"), ksm_get("pages_unshared")};
      if (fs > need && c[0] == counters[0] && c[1] == counters[1] && c[2] == counters[2]) stable++;
      else stable = 0;
      memcpy(counters, c, sizeof c);
      last_scan = fs;
      if (stable >= 2) break;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  ksm_checked_set(s->line, "run", "0");
  if (opt_verbose)
    note("line %d: ksm fixed point after %ld full scans (%.2f s): pages_shared=%ld pages_sharing=%ld "
         "pages_unshared=%ld",
         s->line, ksm_get("full_scans") - f0, now_s() - t0, counters[0], counters[1], counters[2]);
}

/* ------------------------------------------------------------------ */
/* execute one statement */
static char kernel_fault_around[64] = "16 (default; debugfs not readable)";

static void report_set(const stmt_t *s) {
  const char *k = s->name;
  char want[160] = "";
  if (!strcmp(k, "kernel")) {
    struct utsname u;
    uname(&u);
    snprintf(want, sizeof want, "the running kernel is %s (closest contract value: 6.12)", u.release);
  } else if (!strcmp(k, "zero-page")) {
    snprintf(want, sizeof want, "on (the kernel maps the shared zero page on read faults of private anon memory)");
  } else if (!strcmp(k, "fault-around")) {
    snprintf(want, sizeof want, "%s", kernel_fault_around);
  } else if (!strcmp(k, "swap")) {
    FILE *f = fopen("/proc/swaps", "r");
    long total = 0;
    if (f) {
      char ln[512];
      while (fgets(ln, sizeof ln, f)) {
        char nm[256], ty[64];
        long sz;
        if (sscanf(ln, "%255s %63s %ld", nm, ty, &sz) == 3) total += sz / 4;
      }
      fclose(f);
    }
    snprintf(want, sizeof want, "%ld (pages of swap space, /proc/swaps)", total);
  } else if (!strcmp(k, "ksm-max-sharing")) {
    long m = ksm_get("max_page_sharing");
    if (m < 0) snprintf(want, sizeof want, "unknown (no KSM)");
    else snprintf(want, sizeof want, "%ld (" KSM_DIR "max_page_sharing)", m);
  } else {
    snprintf(want, sizeof want, "unknown option, not checked");
  }
  note("line %d: `set %s %s` is not honoured; this kernel has %s = %s", s->line, k, s->arg, k, want);
}

static void exec_stmt(const stmt_t *s) {
  req_t rq;
  memset(&rq, 0, sizeof rq);
  switch (s->op) {
  case OP_SET:
    report_set(s);
    return;
  case OP_SIMONLY:
    if (opt_strict) fail(s->line, "`%s` is a simulator-only statement (refused with --strict)", s->name);
    note("line %d: skipping simulator-only statement `%s`", s->line, s->name);
    return;
  case OP_OBSERVE:
    do_observe(s);
    return;
  case OP_KSM:
    do_ksm(s);
    return;
  case OP_SPAWN: {
    if (find_proc(s->proc, 1)) fail(s->line, "process %s already exists", s->proc);
    if (nprocs >= MAXPROC) fail(s->line, "too many processes");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) fail(s->line, "socketpair: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0) fail(s->line, "fork: %s", strerror(errno));
    if (c == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != controller_pid) _exit(1);
      close(sv[0]);
      close_all_but(sv[1], -1);
      worker_setup(sv[1]);
      worker_loop(sv[1]);
    }
    close(sv[1]);
    proc_t *p = &procs[nprocs++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, MAXNAME, "%s", s->proc);
    p->pid = c;
    p->sock = sv[0];
    p->alive = p->used = 1;
    return;
  }
  default:
    break;
  }

  proc_t *p = need_proc(s);
  switch (s->op) {
  case OP_MMAP: {
    if (find_region(p, s->name)) fail(s->line, "process %s already has a region %s", p->name, s->name);
    if (p->nreg >= MAXREG) fail(s->line, "too many regions");
    if (s->n1 * PG > SLOT_SIZE) fail(s->line, "region too large (at most %lu pages)", SLOT_SIZE / PG);
    int fidx = -1;
    if (s->kind == K_FILE) {
      fidx = find_or_create_file(s->line, s->arg, s->n1);
      snprintf(rq.path, sizeof rq.path, "%s", files[fidx].path);
    }
    rq.op = W_MMAP;
    rq.addr = take_slot(s->line);
    rq.len = (unsigned long)s->n1 * PG;
    rq.prot = PROT_READ | PROT_WRITE;
    rq.flags = (s->shared ? MAP_SHARED : MAP_PRIVATE) | (s->kind == K_FILE ? 0 : MAP_ANONYMOUS);
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "mmap", rs.err);
    region_t *r = &p->reg[p->nreg++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, MAXNAME, "%s", s->name);
    r->kind = s->kind;
    r->file = fidx;
    r->shared = s->shared;
    r->base = rq.addr;
    r->size = s->n1;
    r->backing = s->n1;
    r->st = malloc((size_t)r->size);
    memset(r->st, S_RW, (size_t)r->size);
    return;
  }
  case OP_READ:
  case OP_WRITE: {
    region_t *r = need_region(s, p);
    long a = s->n1, b = s->has_range ? s->n2 : s->n1;
    check_access(s, p, r, a, b, s->op == OP_WRITE);
    rq.op = s->op == OP_READ ? W_READ : W_WRITE;
    rq.addr = r->base + (unsigned long)a * PG;
    rq.npages = b - a + 1;
    if (s->op == OP_WRITE) {
      if (s->has_value) {
        rq.seed = fnv1a(s->arg);
      } else {
        uint64_t x = ++unique_counter ^ ((uint64_t)p->pid << 32) ^ (uint64_t)time(NULL) << 16;
        rq.seed = splitmix64(&x);
        unique_counter += (uint64_t)rq.npages;
        rq.unique = 1;
      }
    }
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0)
      fail(s->line, "%s %s:%s:%ld: the access faulted (%s)", s->op == OP_READ ? "read" : "write", p->name, r->name,
           a + (rs.fault_page < 0 ? 0 : rs.fault_page), strerror(rs.err));
    return;
  }
  case OP_FORK: {
    if (find_proc(s->name, 1)) fail(s->line, "process %s already exists", s->name);
    if (nprocs >= MAXPROC) fail(s->line, "too many processes");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) fail(s->line, "socketpair: %s", strerror(errno));
    rq.op = W_FORK;
    rsp_t rs = call_worker(s->line, p, &rq, sv[1]);
    close(sv[1]);
    if (rs.rc < 0) { close(sv[0]); syscall_fail(s, "fork", rs.err); }
    rsp_t hello;
    if (recv_fd_msg(sv[0], &hello, sizeof hello, NULL) != (ssize_t)sizeof hello || hello.op != W_HELLO)
      fail(s->line, "forked child %s did not start", s->name);
    proc_t *c = &procs[nprocs++];
    p = need_proc(s); /* (procs is a static array: p stays valid) */
    memcpy(c, p, sizeof *c);
    snprintf(c->name, MAXNAME, "%s", s->name);
    c->pid = rs.pid;
    c->sock = sv[0];
    c->alive = c->used = 1;
    for (int i = 0; i < c->nreg; i++) {
      unsigned char *st = malloc((size_t)c->reg[i].size + 1);
      memcpy(st, p->reg[i].st, (size_t)c->reg[i].size);
      c->reg[i].st = st;
    }
    return;
  }
  case OP_EXIT: {
    rq.op = W_EXIT;
    call_worker(s->line, p, &rq, -1);
    wait_eof(p); /* EOF on the socket comes after exit_mm(): the mm is torn down */
    close(p->sock);
    p->alive = 0;
    reap_children_nohang();
    return;
  }
  case OP_MUNMAP: {
    region_t *r = need_region(s, p);
    long a = 0, cnt = r->size;
    if (s->has_range) {
      a = s->n1;
      cnt = s->n2;
      if (a + cnt > r->size) fail(s->line, "munmap %s:%s: pages %ld..%ld out of range (region has %ld pages)",
                                  p->name, r->name, a, a + cnt - 1, r->size);
    }
    rq.op = W_MUNMAP;
    rq.addr = r->base + (unsigned long)a * PG;
    rq.len = (unsigned long)cnt * PG;
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "munmap", rs.err);
    memset(r->st + a, S_UNMAPPED, (size_t)cnt);
    return;
  }
  case OP_MPROTECT: {
    region_t *r = need_region(s, p);
    if (s->n1 + s->n2 > r->size)
      fail(s->line, "mprotect %s:%s: pages %ld..%ld out of range (region has %ld pages)", p->name, r->name, s->n1,
           s->n1 + s->n2 - 1, r->size);
    rq.op = W_MPROTECT;
    rq.addr = r->base + (unsigned long)s->n1 * PG;
    rq.len = (unsigned long)s->n2 * PG;
    rq.prot = s->prot == S_NONE ? PROT_NONE : s->prot == S_R ? PROT_READ : PROT_READ | PROT_WRITE;
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "mprotect", rs.err);
    memset(r->st + s->n1, s->prot, (size_t)s->n2);
    return;
  }
  case OP_MREMAP:
  case OP_MREMAP_MOVE: {
    region_t *r = need_region(s, p);
    rq.op = W_MREMAP;
    rq.addr = r->base;
    rq.len = (unsigned long)r->size * PG;
    if (s->op == OP_MREMAP) {
      rq.newlen = (unsigned long)s->n1 * PG;
      rq.flags = MREMAP_MAYMOVE;
    } else {
      rq.newlen = rq.len;
      rq.newaddr = take_slot(s->line);
      rq.flags = MREMAP_MAYMOVE | MREMAP_FIXED;
    }
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "mremap", rs.err);
    if (opt_verbose && s->op == OP_MREMAP && rs.addr != r->base)
      note("line %d: mremap moved %s:%s from %#lx to %#lx", s->line, p->name, r->name, r->base, rs.addr);
    r->base = rs.addr;
    if (s->op == OP_MREMAP && s->n1 != r->size) {
      unsigned char fill = r->size > 0 ? r->st[r->size - 1] : S_RW;
      r->st = realloc(r->st, (size_t)s->n1 + 1);
      for (long i = r->size; i < s->n1; i++) r->st[i] = fill;
      r->size = s->n1;
    }
    return;
  }
  case OP_MLOCK:
  case OP_MUNLOCK: {
    region_t *r = need_region(s, p);
    rq.op = s->op == OP_MLOCK ? W_MLOCK : W_MUNLOCK;
    rq.addr = r->base;
    rq.len = (unsigned long)r->size * PG;
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, s->op == OP_MLOCK ? "mlock" : "munlock", rs.err);
    return;
  }
  case OP_MADVISE: {
    region_t *r = need_region(s, p);
    rq.op = W_MADVISE;
    rq.addr = r->base;
    rq.len = (unsigned long)r->size * PG;
    rq.advice = s->advice;
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "madvise", rs.err);
    /* ksm_madvise() enters the mm into KSM only for a VMA KSM can merge (not VM_SHARED) */
    if (s->advice == MADV_MERGEABLE && r->kind != K_ANON_SHARED && !(r->kind == K_FILE && r->shared)) p->ksm_mm = 1;
    return;
  }
  default:
    fail(s->line, "internal error: op %d", s->op);
  }
}

/* ------------------------------------------------------------------ */
/* parser */
static int valid_name(const char *t) {
  if (!isalpha((unsigned char)t[0])) return 0;
  for (const char *c = t + 1; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-') return 0;
  return strlen(t) < MAXNAME;
}

static int parse_num(const char *t, long *out) {
  if (!*t || strlen(t) > 9) return 0;
  for (const char *c = t; *c; c++)
    if (!isdigit((unsigned char)*c)) return 0;
  *out = atol(t);
  return 1;
}

typedef struct { char *t; int col; } tok_t;

static void syntax(int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "rmaplab-kcheck: line %d, column %d: syntax error: ", line, col);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static void parse(char *text) {
  int cap = 64, line = 0, step = 0;
  stmts = malloc((size_t)cap * sizeof *stmts);
  char *save = NULL;
  for (char *ln = text; ln; ln = save) {
    save = strchr(ln, '\n');
    if (save) *save++ = 0;
    line++;
    char *hash = strchr(ln, '#');
    if (hash) *hash = 0;
    tok_t tk[16];
    int nt = 0;
    for (char *c = ln; *c;) {
      while (*c && isspace((unsigned char)*c)) c++;
      if (!*c) break;
      if (nt == 16) syntax(line, (int)(c - ln) + 1, "too many words");
      tk[nt].t = c;
      tk[nt].col = (int)(c - ln) + 1;
      while (*c && !isspace((unsigned char)*c)) c++;
      if (*c) *c++ = 0;
      nt++;
    }
    if (!nt) continue;
    step++;
    if (nstmts == cap) stmts = realloc(stmts, (size_t)(cap *= 2) * sizeof *stmts);
    stmt_t *s = &stmts[nstmts++];
    memset(s, 0, sizeof *s);
    s->line = line;
    s->step = step;
    /* process prefix "P:" (also accept "P:verb") */
    char *colon = strchr(tk[0].t, ':');
    if (colon) {
      *colon = 0;
      if (!valid_name(tk[0].t)) syntax(line, tk[0].col, "bad process name '%s'", tk[0].t);
      snprintf(s->proc, MAXNAME, "%s", tk[0].t);
      if (colon[1]) { tk[0].col += (int)(colon + 1 - tk[0].t); tk[0].t = colon + 1; }
      else { memmove(tk, tk + 1, (size_t)(nt - 1) * sizeof *tk); nt--; }
      if (!nt) syntax(line, 1, "missing operation after '%s:'", s->proc);
    }
    const char *v = tk[0].t;
    tok_t *a = tk + 1;
    int na = nt - 1;
#define NEED(lo, hi, usage)                                                                           \
  do {                                                                                                \
    if (na < (lo) || na > (hi)) syntax(line, tk[0].col, "usage: %s", usage);                          \
  } while (0)
#define NAME(i, dst)                                                                                  \
  do {                                                                                                \
    if (!valid_name(a[i].t)) syntax(line, a[i].col, "bad name '%s'", a[i].t);                         \
    snprintf(dst, MAXNAME, "%s", a[i].t);                                                             \
  } while (0)
#define NUM(i, dst)                                                                                   \
  do {                                                                                                \
    if (!parse_num(a[i].t, &(dst))) syntax(line, a[i].col, "bad number '%s'", a[i].t);                \
  } while (0)
    if (!s->proc[0]) {
      if (!strcmp(v, "spawn")) {
        NEED(1, 1, "spawn P");
        s->op = OP_SPAWN;
        if (!valid_name(a[0].t)) syntax(line, a[0].col, "bad process name '%s'", a[0].t);
        snprintf(s->proc, MAXNAME, "%s", a[0].t);
      } else if (!strcmp(v, "ksm")) {
        NEED(0, 0, "ksm");
        s->op = OP_KSM;
      } else if (!strcmp(v, "observe")) {
        NEED(0, 0, "observe");
        s->op = OP_OBSERVE;
      } else if (!strcmp(v, "set")) {
        NEED(2, 2, "set KEY VALUE");
        s->op = OP_SET;
        snprintf(s->name, MAXNAME, "%.*s", MAXNAME - 1, a[0].t);
        snprintf(s->arg, MAXNAME, "%.*s", MAXNAME - 1, a[1].t);
      } else {
        syntax(line, tk[0].col, "unknown statement '%s'", v);
      }
      continue;
    }
    if (!strcmp(v, "mmap")) {
      NEED(4, 4, "P: mmap REGION PAGES anon|file:FILE private|shared");
      s->op = OP_MMAP;
      NAME(0, s->name);
      NUM(1, s->n1);
      if (s->n1 < 1) syntax(line, a[1].col, "PAGES must be at least 1");
      if (!strcmp(a[2].t, "anon")) s->kind = K_ANON_PRIV;
      else if (!strncmp(a[2].t, "file:", 5)) {
        s->kind = K_FILE;
        if (!valid_name(a[2].t + 5)) syntax(line, a[2].col + 5, "bad file name '%s'", a[2].t + 5);
        snprintf(s->arg, MAXNAME, "%s", a[2].t + 5);
      } else syntax(line, a[2].col, "expected anon or file:FILE, got '%s'", a[2].t);
      if (!strcmp(a[3].t, "shared")) s->shared = 1;
      else if (strcmp(a[3].t, "private")) syntax(line, a[3].col, "expected private or shared, got '%s'", a[3].t);
      if (s->kind == K_ANON_PRIV && s->shared) s->kind = K_ANON_SHARED;
    } else if (!strcmp(v, "read") || !strcmp(v, "write")) {
      int w = v[0] == 'w';
      if (w) NEED(2, 3, "P: write REGION PAGE|FIRST..LAST [VALUE]");
      else NEED(2, 2, "P: read REGION PAGE|FIRST..LAST");
      s->op = w ? OP_WRITE : OP_READ;
      NAME(0, s->name);
      char *dots = strstr(a[1].t, "..");
      if (dots) {
        *dots = 0;
        if (!parse_num(a[1].t, &s->n1)) syntax(line, a[1].col, "bad page '%s'", a[1].t);
        if (!parse_num(dots + 2, &s->n2)) syntax(line, a[1].col, "bad page range end '%s'", dots + 2);
        if (s->n2 < s->n1) syntax(line, a[1].col, "empty page range %ld..%ld", s->n1, s->n2);
        s->has_range = 1;
      } else NUM(1, s->n1);
      if (na == 3) { NAME(2, s->arg); s->has_value = 1; }
    } else if (!strcmp(v, "fork")) {
      NEED(1, 1, "P: fork C");
      s->op = OP_FORK;
      NAME(0, s->name);
    } else if (!strcmp(v, "exit")) {
      NEED(0, 0, "P: exit");
      s->op = OP_EXIT;
    } else if (!strcmp(v, "munmap")) {
      if (na != 1 && na != 3) syntax(line, tk[0].col, "usage: P: munmap REGION [PAGE COUNT]");
      s->op = OP_MUNMAP;
      NAME(0, s->name);
      if (na == 3) {
        NUM(1, s->n1);
        NUM(2, s->n2);
        if (s->n2 < 1) syntax(line, a[2].col, "COUNT must be at least 1");
        s->has_range = 1;
      }
    } else if (!strcmp(v, "mprotect")) {
      NEED(4, 4, "P: mprotect REGION PAGE COUNT none|r|rw");
      s->op = OP_MPROTECT;
      NAME(0, s->name);
      NUM(1, s->n1);
      NUM(2, s->n2);
      if (s->n2 < 1) syntax(line, a[2].col, "COUNT must be at least 1");
      if (!strcmp(a[3].t, "none")) s->prot = S_NONE;
      else if (!strcmp(a[3].t, "r")) s->prot = S_R;
      else if (!strcmp(a[3].t, "rw")) s->prot = S_RW;
      else syntax(line, a[3].col, "expected none, r or rw, got '%s'", a[3].t);
    } else if (!strcmp(v, "mremap")) {
      NEED(2, 2, "P: mremap REGION PAGES|move");
      NAME(0, s->name);
      if (!strcmp(a[1].t, "move")) s->op = OP_MREMAP_MOVE;
      else {
        s->op = OP_MREMAP;
        NUM(1, s->n1);
        if (s->n1 < 1) syntax(line, a[1].col, "PAGES must be at least 1");
      }
    } else if (!strcmp(v, "mlock") || !strcmp(v, "munlock")) {
      NEED(1, 1, "P: mlock|munlock REGION");
      s->op = v[1] == 'l' ? OP_MLOCK : OP_MUNLOCK;
      NAME(0, s->name);
    } else if (!strcmp(v, "madvise")) {
      NEED(2, 2, "P: madvise REGION mergeable|unmergeable|dontneed|pageout|cold");
      s->op = OP_MADVISE;
      NAME(0, s->name);
      const char *m = a[1].t;
      if (!strcmp(m, "mergeable")) s->advice = MADV_MERGEABLE;
      else if (!strcmp(m, "unmergeable")) s->advice = MADV_UNMERGEABLE;
      else if (!strcmp(m, "dontneed")) s->advice = MADV_DONTNEED;
      else if (!strcmp(m, "pageout")) s->advice = MADV_PAGEOUT;
      else if (!strcmp(m, "cold")) s->advice = MADV_COLD;
      else syntax(line, a[1].col, "unknown advice '%s'", m);
    } else if (!strcmp(v, "walk") || !strcmp(v, "unmap") || !strcmp(v, "reclaim") || !strcmp(v, "referenced") ||
               !strcmp(v, "migrate") || !strcmp(v, "mkclean")) {
      if (na < 2) syntax(line, tk[0].col, "usage: P: %s REGION PAGE%s", v, !strcmp(v, "unmap") ? " [FLAG...]" : "");
      NAME(0, s->name);
      long dummy;
      NUM(1, dummy);
      if (strcmp(v, "unmap") && na != 2) syntax(line, a[2].col, "unexpected '%s'", a[2].t);
      s->op = OP_SIMONLY;
      snprintf(s->name, MAXNAME, "%s", v);
    } else {
      syntax(line, tk[0].col, "unknown operation '%s'", v);
    }
#undef NEED
#undef NAME
#undef NUM
  }
}

/* ------------------------------------------------------------------ */
static void usage(FILE *f) {
  fputs("usage: rmaplab-kcheck [OPTIONS] [SCENARIO.rmap | -]\n"
        "\n"
        "Runs the kernel-executable statements of an rmaplab scenario on the running\n"
        "Linux kernel, with one real process per scenario process, and prints one JSON\n"
        "line per `observe` on stdout (the observation format of the scenario\n"
        "contract, plus the extra fields \"pfn\", \"kpf\" and \"swapped\").\n"
        "Reads the scenario from stdin when no file (or `-`) is given. Needs root.\n"
        "\n"
        "options:\n"
        "  --strict            refuse simulator-only statements instead of skipping them\n"
        "  -v, --verbose       notes on stderr (KSM scan counts, moves, ...)\n"
        "  --no-pin            do not pin all processes to CPU 0\n"
        "  --no-drain          do not drain per-CPU LRU/mlock batches before `observe`\n"
        "  --keep-smart-scan   leave KSM smart_scan as it is during `ksm`\n"
        "  --ksm-timeout SEC   give up waiting for a KSM fixed point (default 60)\n"
        "  --tmpdir DIR        where to create the scenario's files (default $TMPDIR or\n"
        "                      /var/tmp; must not be tmpfs for file mappings to be file pages)\n"
        "  --help, --version\n"
        "\n"
        "exit status: 0 ok, 1 scenario or kernel error, 2 usage or syntax error\n",
        f);
}

static char *slurp(FILE *f) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t r;
  while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) b = realloc(b, cap *= 2);
  }
  b[n] = 0;
  return b;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  controller_pid = getpid();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    else if (!strcmp(a, "--version")) { printf("rmaplab-kcheck %s\n", KCHECK_VERSION); return 0; }
    else if (!strcmp(a, "--strict")) opt_strict = 1;
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) opt_verbose = 1;
    else if (!strcmp(a, "--no-pin")) opt_pin = 0;
    else if (!strcmp(a, "--no-drain")) opt_drain = 0;
    else if (!strcmp(a, "--keep-smart-scan")) opt_smart_scan_off = 0;
    else if (!strcmp(a, "--ksm-timeout") && i + 1 < argc) opt_ksm_timeout = atof(argv[++i]);
    else if (!strcmp(a, "--tmpdir") && i + 1 < argc) opt_tmpbase = argv[++i];
    else if (a[0] == '-' && a[1]) die_usage("unknown option %s (try --help)", a);
    else if (path) die_usage("only one scenario file");
    else path = a;
  }
  char *text;
  if (!path || !strcmp(path, "-")) text = slurp(stdin);
  else {
    FILE *f = fopen(path, "r");
    if (!f) die_usage("cannot open %s: %s", path, strerror(errno));
    text = slurp(f);
    fclose(f);
  }
  parse(text);

  /* can we run at all? */
  struct utsname u;
  if (uname(&u) < 0 || strcmp(u.sysname, "Linux")) fail(0, "not running on Linux");
  if (geteuid() != 0) fail(0, "must run as root (reading /proc/kpagecount needs CAP_SYS_ADMIN)");
  kpagecount_fd = open("/proc/kpagecount", O_RDONLY);
  kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
  if (kpagecount_fd < 0 || kpageflags_fd < 0)
    fail(0, "cannot open /proc/kpagecount or /proc/kpageflags: %s (needs root and CONFIG_PROC_PAGE_MONITOR)",
         strerror(errno));
  int uses_ksm = 0;
  for (int i = 0; i < nstmts; i++)
    if (stmts[i].op == OP_KSM ||
        (stmts[i].op == OP_MADVISE && (stmts[i].advice == MADV_MERGEABLE || stmts[i].advice == MADV_UNMERGEABLE)))
      uses_ksm = 1;
  if (uses_ksm) {
    ksm_need(0);
    ksm_save();
  }
  {
    char b[64];
    if (read_small("/sys/kernel/debug/fault_around_bytes", b, sizeof b) == 0)
      snprintf(kernel_fault_around, sizeof kernel_fault_around, "%ld", atol(b) / (long)PG);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (uses_ksm && ksm_set("run", "0") < 0) fail(0, "cannot stop ksmd: %s", strerror(errno));

  if (opt_pin) {
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    if (sched_setaffinity(0, sizeof cs, &cs) < 0) note("warning: cannot pin to CPU 0: %s", strerror(errno));
  }

  /* temp dir for files */
  const char *base = opt_tmpbase ? opt_tmpbase : getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/rmaplab-kcheck.XXXXXX", base);
  int need_files = 0;
  for (int i = 0; i < nstmts; i++)
    if (stmts[i].op == OP_MMAP && stmts[i].kind == K_FILE) need_files = 1;
  if (need_files) {
    if (!mkdtemp(tmpdir)) fail(0, "cannot create a temp dir under %s: %s", base, strerror(errno));
    tmpdir_made = 1;
    struct statfs sf;
    if (statfs(tmpdir, &sf) == 0 && sf.f_type == 0x01021994 /* TMPFS_MAGIC */)
      note("warning: %s is on tmpfs: file mappings will be shmem pages (use --tmpdir)", base);
  }

  /* address reservation: NSLOTS x 64 MiB, first slot 2 MiB aligned */
  size_t rsv = (size_t)NSLOTS * SLOT_SIZE + (2UL << 20);
  void *r = mmap(NULL, rsv, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) fail(0, "cannot reserve address space: %s", strerror(errno));
  slot_base = ((unsigned long)r + (2UL << 20) - 1) & ~((2UL << 20) - 1);
  drain_page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (drain_page == MAP_FAILED) fail(0, "mmap: %s", strerror(errno));
  drain_page[0] = 1;

  for (int i = 0; i < nstmts; i++) exec_stmt(&stmts[i]);

  cleanup_async();
  return 0;
}
