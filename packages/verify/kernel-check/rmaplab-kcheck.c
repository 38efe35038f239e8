/*
 * rmaplab-kcheck — run the kernel-executable statements of an rmaplab scenario
 * (.rmap) on the running Linux kernel and print one JSON observation line per
 * `observe`, in the format of the scenario contract (shared/scenario-language.md).
 *
 * Design (see kernel-check/README.md for the long version):
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
 *    grow in place) and then maps at the slot start with MAP_FIXED. Regions mapped
 *    while `thp` is `never` get MADV_NOHUGEPAGE (contract v2).
 *  - The controller keeps the bookkeeping (base, size, per-page protection) of
 *    every region of every process, so it refuses accesses that would kill the
 *    worker. Workers also catch SIGSEGV/SIGBUS with sigsetjmp as a safety net.
 *  - `observe` reads /proc/PID/pagemap of every live worker (the controller is
 *    root, so it sees PFNs), then /proc/kpagecount and /proc/kpageflags, and
 *    (contract v2) each worker's VMAs from /proc/PID/smaps and, once the
 *    scenario has run `ksm`, KSM's counters from /sys/kernel/mm/ksm.
 *    Before reading, it drains the per-CPU LRU/mlock batches of all CPUs (an
 *    mlock() of a private page calls lru_add_drain_all()), so that flags such
 *    as unevictable are settled (disable with --no-drain).
 *  - All processes are pinned to CPU 0 by default (--no-pin to disable), which
 *    makes the per-CPU batching behaviour of the kernel deterministic.
 *  - One run at a time (a lock in /run/rmaplab-kcheck), and every sysfs value
 *    the run changes is journalled there first, so that the next run restores
 *    what a killed one changed ("The machine's settings" below).
 *
 * Exit codes: 0 ok, 1 scenario or kernel error, 2 usage or syntax error,
 * 3 busy (another run held the lock for the whole --wait).
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
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
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
static double opt_ksm_timeout = 60.0, opt_wait = 180.0;
static const char *opt_tmpbase;
static int opt_recover_only;
#define MAXSYSFSOPT 16
static const char *opt_sysfs[MAXSYSFSOPT]; /* --sysfs KEY=VALUE */
static int nopt_sysfs;

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
  unsigned char *st;    /* per page: enum pstate | ST_MERGEABLE, `size` entries */
} region_t;

/* The page's VMA has VM_MERGEABLE: ksmd keeps scanning an mm only while it has such a VMA. */
#define ST_MERGEABLE 0x80
#define PST(x) ((x) & ~ST_MERGEABLE)

typedef struct {
  char name[MAXNAME];
  pid_t pid;
  int sock, alive, used;
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
static char tmpdir[PATH_MAX - 64], tmpbase[PATH_MAX - 64];
static int tmpdir_made;
static unsigned long slot_base;
static int next_slot;
static uint64_t unique_counter;
/* Mixed into every named content: the same VALUE gives identical pages within this run only, so
 * KSM never merges this run's pages with a page of another process that happens to hold the same
 * pattern (another run's leftovers, or anything else on the machine). */
static uint64_t run_salt;
/* A `ksm` statement has run: observations carry KSM's counters from then on. */
static int ksm_ran;
static int kpagecount_fd = -1, kpageflags_fd = -1;
static pid_t controller_pid;
static char *drain_page;
static int lock_fd = -1, lock_held; /* STATE_DIR/lock, see "The machine's settings" below */
/* The controller's end of the socket of a worker being created, until it is in procs[]. */
static int pending_sock = -1;

/* The KSM settings the helper changes (all journalled before the first change, see below). */
#define KSM_DIR "/sys/kernel/mm/ksm/"
static const char *ksm_keys[] = {"run",           "smart_scan",      "advisor_mode",
                                 "pages_to_scan", "sleep_millisecs", "max_page_sharing"}; /* run first */
#define NKSMKEYS 6

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
      else if (rq.advice) madvise(p, rq.len, rq.advice);
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
        close_all_but(passed_fd, lock_fd);
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
      fill_page(buf, fnv1a(f->name) ^ ((uint64_t)(idx + 1) << 48) ^ (uint64_t)pg * 0x1000193ULL ^ run_salt);
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

/* advisor_mode and the THP files read like "[none] scan-time": extract the bracketed word */
static void bracketed(char *s) {
  char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
  if (a && b) { memmove(s, a + 1, (size_t)(b - a - 1)); s[b - a - 1] = 0; }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
  nanosleep(&ts, NULL);
}

/* A note that is safe in a signal handler (write(2) only). */
static void say(const char *a, const char *b) {
  static const char pre[] = "rmaplab-kcheck: ";
  ssize_t r = write(2, pre, sizeof pre - 1);
  r = write(2, a, strlen(a));
  if (b) r = write(2, b, strlen(b));
  r = write(2, "\n", 1);
  (void)r;
}

/* ------------------------------------------------------------------ */
/* The machine's settings survive any end of a run, and one run at a time.
 *
 * STATE_DIR is root-only (under /run): nobody else can plant a lock or a state file there. The
 * state file names the boot it was written in (/proc/sys/kernel/random/boot_id): after a reboot
 * the kernel has its boot settings again and there is nothing to restore (where /run is no
 * tmpfs, the file outlives the reboot).
 *  - STATE_DIR/lock is flock()ed for the whole run and holds the owner's pid (for the message of
 *    a run that has to wait). Workers inherit the open file and keep it, so the lock is free
 *    only once every process of the run has exited, after exit_mm(): a run that takes the lock
 *    knows that the previous run and all its address spaces are gone.
 *  - STATE_DIR/state is the journal: rewritten (temp file, fsync, rename, fsync of the folder)
 *    before the first write of every sysfs file, with that file's prior value. It also names
 *    the run's temp folder and says whether an mm of the run entered KSM. A run that ends
 *    normally, on an error or on SIGINT/SIGTERM/SIGHUP restores the values and removes the
 *    file. A run that finds the file under the lock (its owner was killed: SIGKILL, OOM)
 *    restores from it before it records anything as "prior" itself.
 * Every sysfs value the helper changes goes through sysfs_change(). */
#define STATE_DIR "/run/rmaplab-kcheck"
#define STATE_FILE STATE_DIR "/state"
#define STATE_MAGIC "rmaplab-kcheck state 1"
#define SYSFS_MM "/sys/kernel/mm/"
#define MAXJOURNAL 64

typedef struct { char path[160]; char value[64]; } jent_t;
static jent_t journal[MAXJOURNAL];
static int njournal;
static int journal_ksm;  /* an mm of the run entered KSM: ksmd must free its rmap_items at the end */

/* This boot's id, or "" where the kernel has none. */
static const char *boot_id(void) {
  static char id[64];
  if (!id[0] && read_small("/proc/sys/kernel/random/boot_id", id, sizeof id) < 0) id[0] = 0;
  return id;
}

static void journal_write(int line) {
  static char buf[MAXJOURNAL * 256 + PATH_MAX + 128];
  int n = snprintf(buf, sizeof buf, STATE_MAGIC "\npid %d\nboot %s\nksm %d\n", (int)controller_pid, boot_id(),
                   journal_ksm);
  if (tmpdir_made) n += snprintf(buf + n, sizeof buf - (size_t)n, "tmpdir %s\n", tmpdir);
  for (int i = 0; i < njournal; i++)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "set %s %s\n", journal[i].path, journal[i].value);
  int fd = open(STATE_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
  int ok = fd >= 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
  if (fd >= 0 && close(fd) < 0) ok = 0;
  if (!ok || rename(STATE_FILE ".tmp", STATE_FILE) < 0)
    fail(line, "cannot write the state file " STATE_FILE ": %s", strerror(errno));
  int dfd = open(STATE_DIR, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) { fsync(dfd); close(dfd); }
}

static void journal_add(int line, const char *path, const char *value) {
  if (njournal == MAXJOURNAL || strlen(path) >= sizeof journal[0].path || strlen(value) >= sizeof journal[0].value)
    fail(line, "internal error: cannot journal %s", path);
  snprintf(journal[njournal].path, sizeof journal[0].path, "%s", path);
  snprintf(journal[njournal].value, sizeof journal[0].value, "%s", value);
  njournal++;
}

/* Journal the current value of a sysfs file (once per file and run), before it is changed. */
static void journal_record(int line, const char *path) {
  for (int i = 0; i < njournal; i++)
    if (!strcmp(journal[i].path, path)) return;
  char v[sizeof journal[0].value];
  if (read_small(path, v, sizeof v) < 0) fail(line, "cannot read %s: %s", path, strerror(errno));
  bracketed(v);
  if (strchr(v, '\n')) fail(line, "cannot journal %s: not a one-line value", path);
  journal_add(line, path, v);
  journal_write(line);
}

/* Set a sysfs file for the rest of the run. Its prior value is journalled first and comes back
 * at the end of the run, or at the start of the next run if this one is killed. KSM's settings
 * go through here; so will `set thp`'s transparent_hugepage/hugepages-NkB/enabled. */
static void sysfs_change(int line, const char *path, const char *value) {
  journal_record(line, path);
  if (write_small(path, value) < 0) fail(line, "cannot write %s to %s: %s", value, path, strerror(errno));
}

/* The contract's `thp never` (every folio one page), which MADV_NOHUGEPAGE gives a region only
 * until `madvise REGION hugepage` lifts it: no size of anonymous or shmem folio a fault may
 * allocate, so no khugepaged either (a size that is `inherit` follows the top-level file). */
static void thp_never(void) {
  static const char *top[] = {"enabled", "shmem_enabled"};
  char path[PATH_MAX], v[64];
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, SYSFS_MM "transparent_hugepage/%s", top[i]);
    if (read_small(path, v, sizeof v) < 0) continue;
    bracketed(v);
    if (strcmp(v, "never") && strcmp(v, "deny")) sysfs_change(0, path, "never");
  }
  DIR *d = opendir(SYSFS_MM "transparent_hugepage");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, "hugepages-", 10)) continue;
    for (int i = 0; i < 2; i++) {
      snprintf(path, sizeof path, SYSFS_MM "transparent_hugepage/%s/%s", e->d_name, top[i]);
      if (read_small(path, v, sizeof v) < 0) continue;
      bracketed(v);
      if (strcmp(v, "never") && strcmp(v, "inherit")) sysfs_change(0, path, "never");
    }
  }
  if (d) closedir(d);
}

/* `set thp`: some anonymous folio size is enabled, so a region mapped now is not marked
 * MADV_NOHUGEPAGE (contract v2). */
static int thp_sizes_on;

/* The contract's `set thp` sizes, 16K << i for bit i of the statement's mask. */
#define NTHPSIZES 8
static long thp_size_kb(int i) { return 16L << i; }

/* `set thp never|SIZE[,...]`: hugepages-NkB/enabled = always for each listed size and never for
 * every other one (so 2M does not follow the top-level `enabled` through `inherit`). */
static void thp_set(const stmt_t *s) {
  DIR *d = opendir(SYSFS_MM "transparent_hugepage");
  struct dirent *e;
  long found = 0;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, "hugepages-", 10)) continue;
    long kb = atol(e->d_name + 10);
    int on = 0;
    for (int i = 0; i < NTHPSIZES; i++)
      if ((s->n1 >> i & 1) && thp_size_kb(i) == kb) on = 1, found |= 1L << i;
    char path[PATH_MAX];
    snprintf(path, sizeof path, SYSFS_MM "transparent_hugepage/%s/enabled", e->d_name);
    if (access(path, F_OK) == 0) sysfs_change(s->line, path, on ? "always" : "never");
  }
  if (d) closedir(d);
  for (int i = 0; i < NTHPSIZES; i++)
    if ((s->n1 >> i & 1) && !(found >> i & 1))
      fail(s->line, "this kernel has no %ldK anonymous folio size (no hugepages-%ldkB)", thp_size_kb(i),
           thp_size_kb(i));
  thp_sizes_on = s->n1 != 0;
}

/* khugepaged would collapse a region's PTEs into a THP behind the scenario's back: it is made to
 * sleep for as long as it can before any process of the run exists. A write of
 * scan_sleep_millisecs wakes it for one scan (of no process of the run yet), then it sleeps the
 * new period; alloc_sleep_millisecs is the period after a failed allocation. */
static void khugepaged_asleep(void) {
  static const char *keys[] = {"scan_sleep_millisecs", "alloc_sleep_millisecs"};
  for (int i = 0; i < 2; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, SYSFS_MM "transparent_hugepage/khugepaged/%s", keys[i]);
    if (access(path, F_OK) == 0) sysfs_change(0, path, "4294967295");
  }
}

static long ksm_get(const char *key) {
  char path[128], buf[64];
  snprintf(path, sizeof path, KSM_DIR "%s", key);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  return atol(buf);
}

/* ksm_rmap_items: pages_volatile is ksm_rmap_items minus the other three (clamped at 0). */
static long ksm_rmap_items(void) {
  return ksm_get("pages_shared") + ksm_get("pages_sharing") + ksm_get("pages_unshared") + ksm_get("pages_volatile");
}

/* The counters of the observation's "ksm", in the contract's order. */
static const char *ksm_counters[] = {"pages_shared", "pages_sharing", "pages_unshared", "stable_node_chains",
                                     "stable_node_dups"};
#define NKSMCOUNTERS 5
/* What KSM held before this run's first process existed (what processes outside the run have
 * merged): observations report the counters above it, and `ksm` waits on this run's rmap_items. */
static long ksm_base[NKSMCOUNTERS], ksm_base_items;

/* An mm that exits after ksmd has scanned it stays on ksmd's list with its rmap_items, and the
 * stable nodes they hold, until ksmd visits it again and finds it exiting (__ksm_exit(),
 * scan_get_next_rmap_item()). __ksm_exit() moves it to just after ksmd's cursor, so the pass under
 * way (or the next one) frees it: once full_scans has advanced past the moment every process of
 * the run was gone, nothing of the run is left. When ksmd's list is empty there is nothing to
 * free, full_scans would stand still, and no rmap_item exists at all. Called with every process
 * of the run gone; safe in a signal handler (the files were journalled when KSM was first used). */
static void ksm_forget_stale_nodes(void);

static void ksm_drain(void) {
  long f0 = ksm_get("full_scans");
  sysfs_change(0, KSM_DIR "pages_to_scan", "10000");
  sysfs_change(0, KSM_DIR "sleep_millisecs", "5");
  sysfs_change(0, KSM_DIR "run", "1");
  for (double t0 = now_s(); ksm_get("full_scans") == f0 && ksm_rmap_items() > 0; sleep_ms(2))
    if (now_s() - t0 > opt_ksm_timeout) {
      say("warning: ksmd did not finish a scan in --ksm-timeout: rmap_items and stable nodes of this run's "
          "processes stay in the kernel until ksmd runs again",
          NULL);
      break;
    }
  journal_ksm = 0;
  ksm_forget_stale_nodes();
}

/* The stable node of a KSM page that is gone stays in the stable tree, a chain with no dups left
 * in stable_node_chains and a dup in stable_node_dups, until a lookup walks over it (its rb-tree
 * path: stable_node_dup(), ksm_get_folio()); a later run would see those counters drop under it
 * as its own lookups pass. Setting max_page_sharing removes every stable node
 * (remove_all_stable_nodes()), which the kernel allows only while no KSM page is shared: so once
 * pages_shared is 0, it is set to another value and back (both journalled; EBUSY, for a node
 * whose page is still mapped, leaves things as they were). Safe in a signal handler (the file was
 * journalled when KSM was first used). */
static void ksm_forget_stale_nodes(void) {
  char path[] = KSM_DIR "max_page_sharing", v[32];
  long m = ksm_get("max_page_sharing");
  if (m < 2 || ksm_get("pages_shared") != 0 || (ksm_get("stable_node_chains") <= 0 && ksm_get("stable_node_dups") <= 0))
    return;
  journal_record(0, path);
  snprintf(v, sizeof v, "%ld", m + 1);
  if (write_small(path, v) < 0) say("warning: stale KSM stable nodes stay: max_page_sharing refused a change", NULL);
  snprintf(v, sizeof v, "%ld", m);
  if (write_small(path, v) < 0) say("warning: cannot write max_page_sharing back", NULL);
}

/* Put a journalled file back to its prior value now; the journal keeps it for the end of the run. */
static void journal_put_back(int line, const char *path) {
  for (int i = 0; i < njournal; i++)
    if (!strcmp(journal[i].path, path) && write_small(path, journal[i].value) < 0)
      fail(line, "cannot write %s to %s: %s", journal[i].value, path, strerror(errno));
}

/* KSM's counters, as the observation's "ksm" reports them (above the baseline). */
static long ksm_counter(int i) {
  long v = ksm_get(ksm_counters[i]);
  return v < 0 ? 0 : v; /* stable_node_chains and stable_node_dups came with 4.13 */
}

/* Before the run's first process: an exited mm that ksmd has not passed since (a run of a helper
 * without the drain, or a process outside any run) still holds rmap_items and stable nodes, which
 * the first pass of this run's `ksm` would drop, changing the counters under it: ksmd drops them
 * now, and the stale stable nodes go too. What stays belongs to live processes outside the run:
 * the baseline. */
static void ksm_take_baseline(void) {
  if (ksm_rmap_items() > 0) {
    ksm_drain();
    sysfs_change(0, KSM_DIR "run", "0");
    for (int i = 1; i < NKSMKEYS; i++) {
      char file[128];
      snprintf(file, sizeof file, KSM_DIR "%s", ksm_keys[i]);
      journal_put_back(0, file);
    }
  }
  ksm_forget_stale_nodes();
  ksm_base_items = ksm_rmap_items();
  for (int i = 0; i < NKSMCOUNTERS; i++) ksm_base[i] = ksm_counter(i);
  if (ksm_base_items > 0)
    note("warning: KSM holds %ld rmap_items of processes outside this run (pages_shared=%ld pages_sharing=%ld): "
         "the ksm counters are reported above them, and ksmd scans them too",
         ksm_base_items, ksm_base[0], ksm_base[1]);
}

/* Put every journalled value back (latest change first) and drop the state file. Safe in a
 * signal handler. */
static void journal_restore(void) {
  for (int i = njournal - 1; i >= 0; i--)
    if (write_small(journal[i].path, journal[i].value) < 0)
      say("warning: cannot restore ", journal[i].path);
  njournal = 0;
  unlink(STATE_FILE);
}

static void on_alarm(int sig) { (void)sig; }

static int read_pid(const char *path) {
  char b[32];
  return read_small(path, b, sizeof b) == 0 ? atoi(b) : 0;
}

/* Take STATE_DIR/lock, waiting up to --wait seconds for a run that holds it; exit 3 if it stays
 * taken. */
static void take_lock(void) {
  struct stat st;
  if (mkdir(STATE_DIR, 0700) < 0 && errno != EEXIST) fail(0, "cannot create " STATE_DIR ": %s", strerror(errno));
  if (lstat(STATE_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
    fail(0, STATE_DIR " must be a folder only root can use (mode 0700, owner root); not using it");
  lock_fd = open(STATE_DIR "/lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
  if (lock_fd < 0) fail(0, "cannot open " STATE_DIR "/lock: %s", strerror(errno));
  if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) fail(0, "cannot lock " STATE_DIR "/lock: %s", strerror(errno));
    int holder = read_pid(STATE_DIR "/lock");
    int waited = 0;
    if (opt_wait > 0) {
      note("waiting up to %.0f s for the run of pid %d to finish (one run at a time: " STATE_DIR "/lock)", opt_wait,
           holder);
      struct sigaction sa, old;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on_alarm; /* no SA_RESTART: flock() returns EINTR when the time is up */
      sigaction(SIGALRM, &sa, &old);
      struct itimerval it = {{0, 0}, {(long)opt_wait, (long)((opt_wait - (long)opt_wait) * 1e6)}};
      setitimer(ITIMER_REAL, &it, NULL);
      waited = flock(lock_fd, LOCK_EX) == 0;
      struct itimerval off = {{0, 0}, {0, 0}};
      setitimer(ITIMER_REAL, &off, NULL);
      sigaction(SIGALRM, &old, NULL);
    }
    if (!waited) {
      fflush(stdout);
      fprintf(stderr,
              "rmaplab-kcheck: busy: another rmaplab-kcheck run (pid %d%s) holds " STATE_DIR "/lock and kept it "
              "for the %.0f s this run waited; only one run at a time may use the machine's KSM and THP settings\n",
              holder, holder > 0 && kill(holder, 0) < 0 ? ", exited, but processes it started have not" : "",
              opt_wait);
      exit(3);
    }
  }
  lock_held = 1;
  char b[32];
  int n = snprintf(b, sizeof b, "%d\n", (int)controller_pid);
  if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, b, (size_t)n, 0) != n)
    note("warning: cannot write the pid into " STATE_DIR "/lock: %s", strerror(errno));
}

/* Remove a temp folder of a dead run: only a real folder of root's (never through a symlink:
 * /var/tmp is world-writable), and in it only regular files; anything else stays, and the
 * folder with it. */
static int remove_dead_dir(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) return -1;
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    struct stat fs;
    if (fstatat(dfd, e->d_name, &fs, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(fs.st_mode)) unlinkat(dfd, e->d_name, 0);
  }
  closedir(d);
  return rmdir(path);
}

/* The pid of a process other than this one that runs rmaplab-kcheck, or 0 if there is none. */
static int other_kcheck_running(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int found = 0;
  while (d && !found && (e = readdir(d))) {
    if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == (int)controller_pid) continue;
    char path[300], comm[32];
    snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
    if (read_small(path, comm, sizeof comm) == 0 && !strcmp(comm, "rmaplab-kcheck")) found = atoi(e->d_name);
  }
  if (d) closedir(d);
  return found;
}

static int all_of(const char *s, int (*cls)(int), size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!s[i] || !cls((unsigned char)s[i])) return 0;
  return !s[n];
}

/* Temp folders that runs which died left in BASE. Under the lock, every rmaplab-kcheck.PID.XXXXXX
 * is a dead run's (only the lock's owner makes one). rmaplab-kcheck.XXXXXX comes from a helper
 * older than the lock, which may still be running: removed only when no other rmaplab-kcheck
 * process exists. */
static void sweep_tmp(const char *base) {
  DIR *d = opendir(base);
  if (!d) return;
  int legacy_user = -1; /* another rmaplab-kcheck process (its pid), 0 for none; -1: not looked yet */
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "rmaplab-kcheck.", strlen("rmaplab-kcheck."))) continue;
    const char *rest = e->d_name + strlen("rmaplab-kcheck."), *dot = strchr(rest, '.');
    int ours = dot && dot > rest && strspn(rest, "0123456789") == (size_t)(dot - rest) && all_of(dot + 1, isalnum, 6);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", base, e->d_name);
    if (!ours) {
      if (!all_of(rest, isalnum, 6)) continue;
      if (legacy_user < 0) legacy_user = other_kcheck_running();
      if (legacy_user > 0) {
        note("kept %s: rmaplab-kcheck pid %d runs, and a helper from before the lock may be using it", path,
             legacy_user);
        continue;
      }
    }
    if (remove_dead_dir(path) == 0) note("removed %s, the temp folder of a run that died", path);
    else note("warning: cannot remove %s (a temp folder of a run that died): %s", path, strerror(errno));
  }
  closedir(d);
}

/* A state file under the lock is a dead run's: put back what it changed, let ksmd free what its
 * processes left in KSM, and remove its temp folder, before this run records any value. */
static void recover(void) {
  unlink(STATE_FILE ".tmp"); /* a journal write that did not finish; the state file is still whole */
  FILE *f = fopen(STATE_FILE, "r");
  if (!f) {
    if (errno != ENOENT) fail(0, "cannot read " STATE_FILE ": %s", strerror(errno));
    return;
  }
  char ln[PATH_MAX + 64], dead_tmp[PATH_MAX + 64] = "", boot[64] = "";
  int pid = 0, magic = 0;
  while (fgets(ln, sizeof ln, f)) {
    ln[strcspn(ln, "\n")] = 0;
    char *sp;
    if (!strcmp(ln, STATE_MAGIC)) magic = 1;
    else if (!strncmp(ln, "pid ", 4)) pid = atoi(ln + 4);
    else if (!strncmp(ln, "boot ", 5)) snprintf(boot, sizeof boot, "%.63s", ln + 5);
    else if (!strncmp(ln, "ksm ", 4)) journal_ksm = atoi(ln + 4);
    else if (!strncmp(ln, "tmpdir ", 7)) snprintf(dead_tmp, sizeof dead_tmp, "%s", ln + 7);
    else if (!strncmp(ln, "set " SYSFS_MM, 4 + strlen(SYSFS_MM)) && (sp = strchr(ln + 4, ' '))) {
      *sp = 0; /* "set FILE VALUE": only files under /sys/kernel/mm/ are ever written back */
      journal_add(0, ln + 4, sp + 1);
    }
  }
  fclose(f);
  if (!magic)
    fail(0, STATE_FILE " is not a state file of this helper: check /sys/kernel/mm, then remove it by hand");
  if (strcmp(boot, boot_id())) {
    note("a run (pid %d) ended without cleaning up before the machine restarted: nothing to restore", pid);
    njournal = 0;
    journal_ksm = 0;
    if (dead_tmp[0] && remove_dead_dir(dead_tmp) == 0) note("removed %s, its temp folder", dead_tmp);
    unlink(STATE_FILE);
    return;
  }
  note("a previous run (pid %d) ended without cleaning up: restoring what it changed", pid);
  journal_write(0); /* the journal is this run's now: if this run dies too, the next one restores the same */
  if (dead_tmp[0] && remove_dead_dir(dead_tmp) == 0) note("removed %s, its temp folder", dead_tmp);
  if (journal_ksm) {
    note("letting ksmd free the KSM state of its processes");
    ksm_drain();
  }
  for (int i = njournal - 1; i >= 0; i--) note("restored %s = %s", journal[i].path, journal[i].value);
  journal_restore();
}

/* ------------------------------------------------------------------ */
/* cleanup: kill workers, reap, remove temp files, let ksmd forget the run, restore sysfs */
static volatile sig_atomic_t cleaning;

static void cleanup_async(void) {
  if (cleaning || getpid() != controller_pid) return;
  cleaning = 1;
  /* a signal now would end the process halfway through: the cleanup finishes first */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (int i = 0; i < nprocs; i++)
    if (procs[i].used && procs[i].alive && procs[i].pid > 0) kill(procs[i].pid, SIGKILL);
  /* A worker whose creation a signal interrupted is in no table yet, but its socket's other end
   * is ours only: EOF ends it. */
  for (int i = 0; i < nprocs; i++)
    if (procs[i].used && procs[i].alive) close(procs[i].sock);
  if (pending_sock >= 0) close(pending_sock);
  /* we are a child subreaper: every worker ends up as our child */
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  for (int i = 0; i < nfiles; i++) unlink(files[i].path);
  if (tmpdir_made) rmdir(tmpdir);
  if (!lock_held) return; /* the journal belongs to the run that holds the lock */
  if (journal_ksm) ksm_drain();
  journal_restore();
}

static void on_signal(int sig) {
  cleanup_async();
  /* die of the signal, as the caller expects (cleanup_async() left it blocked) */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  signal(sig, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
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
    int st = PST(r->st[pg]);
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

/* The contents of a /proc file (NUL-terminated, to be freed), or NULL. */
static char *slurp_path(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0, r;
  char *buf = malloc(cap);
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0)
    if ((n += r) == cap - 1) buf = realloc(buf, cap *= 2);
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

/* One VMA of /proc/PID/smaps (show_smap(), fs/proc/task_mmu.c): its range, `rw` of its
 * permissions and the VmFlags mnemonics the contract reports (lo mg ac hg nh). */
typedef struct { unsigned long start, end; int r, w; char flags[5][3]; int nflags; } smaps_vma_t;

static int smaps_vma_cmp(const void *a, const void *b) {
  const smaps_vma_t *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Contract v2: `"vmas":{P:[{"region","first","last","prot","flags"}...]...}`, every live worker
 * with its VMAs that lie in a region, in address order, each cut to the region's pages. */
static void observe_vmas(const stmt_t *s, sbuf_t *b) {
  static const struct { const char *mnemonic, *name; } vf[] = {
      {"lo", "locked"}, {"mg", "mergeable"}, {"ac", "account"}, {"hg", "hugepage"}, {"nh", "nohugepage"}};
  sb_printf(b, ",\"vmas\":{");
  int firstp = 1;
  for (int pi = 0; pi < nprocs; pi++) {
    proc_t *p = &procs[pi];
    if (!p->used || !p->alive) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)p->pid);
    char *text = slurp_path(path);
    if (!text) fail(s->line, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 64, nv = 0;
    smaps_vma_t *v = malloc(cap * sizeof *v);
    for (char *ln = text, *nl; *ln; ln = nl) {
      nl = strchr(ln, '\n');
      if (nl) *nl++ = 0;
      else nl = ln + strlen(ln);
      unsigned long a, e;
      char perms[8];
      if (sscanf(ln, "%lx-%lx %7s", &a, &e, perms) == 3 && isxdigit((unsigned char)ln[0])) {
        if (nv == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[nv++] = (smaps_vma_t){a, e, perms[0] == 'r', perms[1] == 'w', {{0}}, 0};
      } else if (nv && !strncmp(ln, "VmFlags:", 8)) {
        smaps_vma_t *x = &v[nv - 1];
        for (char *t = strtok(ln + 8, " "); t; t = strtok(NULL, " "))
          for (size_t k = 0; k < sizeof vf / sizeof vf[0]; k++)
            if (x->nflags < 5 && !strcmp(t, vf[k].mnemonic)) snprintf(x->flags[x->nflags++], 3, "%s", t);
      }
    }
    free(text);
    qsort(v, nv, sizeof *v, smaps_vma_cmp);
    sb_printf(b, "%s\"%s\":[", firstp ? "" : ",", p->name);
    firstp = 0;
    int firstv = 1;
    for (size_t i = 0; i < nv; i++)
      for (int ri = 0; ri < p->nreg; ri++) {
        region_t *r = &p->reg[ri];
        unsigned long lo = r->base, hi = r->base + (unsigned long)r->size * PG;
        unsigned long from = v[i].start > lo ? v[i].start : lo, to = v[i].end < hi ? v[i].end : hi;
        if (from >= to) continue;
        sb_printf(b, "%s{\"region\":\"%s\",\"first\":%lu,\"last\":%lu,\"prot\":\"%s\",\"flags\":[", firstv ? "" : ",",
                  r->name, (from - lo) / PG, (to - lo) / PG - 1, v[i].w ? "rw" : v[i].r ? "r" : "none");
        firstv = 0;
        int firstf = 1;
        for (size_t k = 0; k < sizeof vf / sizeof vf[0]; k++)
          for (int f = 0; f < v[i].nflags; f++)
            if (!strcmp(v[i].flags[f], vf[k].mnemonic)) {
              sb_printf(b, "%s\"%s\"", firstf ? "" : ",", vf[k].name);
              firstf = 0;
            }
        sb_printf(b, "]}");
      }
    sb_printf(b, "]");
    free(v);
  }
  sb_printf(b, "}");
}

/* Contract v2: `"ksm":{...}` once the scenario has run `ksm`: /sys/kernel/mm/ksm's counters as
 * they stand (ksmd does not run between `ksm` statements), above the baseline. */
static void observe_ksm(sbuf_t *b) {
  if (!ksm_ran) return;
  sb_printf(b, ",\"ksm\":{");
  for (int i = 0; i < NKSMCOUNTERS; i++)
    sb_printf(b, "%s\"%s\":%ld", i ? "," : "", ksm_counters[i], ksm_counter(i) - ksm_base[i]);
  sb_printf(b, "}");
}

/* The largest folio a scenario can have: a PMD-mapped THP, order 9 (HPAGE_PMD_ORDER on x86-64). */
#define MAX_FOLIO_PAGES 512

/* The contract's "folio" of a page of a large folio: its head's pfn (a tail's is found by walking
 * pfns down to the page with KPF_COMPOUND_HEAD, as compound_head() finds it through the tail's
 * link) numbered in order of first appearance in this observation. */
static long folio_id(int line, uint64_t pfn, uint64_t fl, uint64_t **heads, long *nheads) {
  uint64_t head = pfn;
  for (int k = 0; !(fl >> KPF_COMPOUND_HEAD & 1); k++) {
    if (!(fl >> KPF_COMPOUND_TAIL & 1) || k == MAX_FOLIO_PAGES || head == 0)
      fail(line, "pfn %llu: a tail page without a head within %d pages below it", (unsigned long long)pfn,
           MAX_FOLIO_PAGES);
    head--;
    if (pread(kpageflags_fd, &fl, 8, (off_t)(head * 8)) != 8) fail(line, "cannot read /proc/kpageflags");
  }
  for (long i = 0; i < *nheads; i++)
    if ((*heads)[i] == head) return i + 1;
  *heads = realloc(*heads, (size_t)(*nheads + 1) * sizeof **heads);
  (*heads)[(*nheads)++] = head;
  return *nheads;
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
        if (PST(r->st[pg]) == S_UNMAPPED) present = 0, swp = 0;
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
  uint64_t *heads = NULL; /* head pfn of folio id i + 1, in order of first appearance */
  long nheads = 0;
  sb_printf(&b, "{\"step\":%d,\"pages\":[", s->step);
  for (size_t gi = 0; gi < ng; gi++) {
    uint64_t pfn = e[g[gi].start].pfn, cnt = 0, fl = 0;
    if (pread(kpagecount_fd, &cnt, 8, (off_t)(pfn * 8)) != 8) fail(s->line, "cannot read /proc/kpagecount");
    if (pread(kpageflags_fd, &fl, 8, (off_t)(pfn * 8)) != 8) fail(s->line, "cannot read /proc/kpageflags");
    sb_printf(&b, "%s{\"mapcount\":%llu,\"flags\":[", gi ? "," : "", (unsigned long long)cnt);
    static const struct { int bit; const char *name; } fm[] = {
        {KPF_ANON, "anon"}, {KPF_KSM, "ksm"}, {KPF_ZERO_PAGE, "zero"},
        {KPF_MLOCKED, "mlocked"}, {KPF_UNEVICTABLE, "unevictable"}, {KPF_SWAPBACKED, "swapbacked"},
        {KPF_THP, "thp"}, {KPF_COMPOUND_HEAD, "head"}, {KPF_COMPOUND_TAIL, "tail"}};
    int first = 1;
    for (size_t k = 0; k < sizeof fm / sizeof fm[0]; k++)
      if ((fl >> fm[k].bit) & 1) { sb_printf(&b, "%s\"%s\"", first ? "" : ",", fm[k].name); first = 0; }
    sb_printf(&b, "]");
    if ((fl >> KPF_COMPOUND_HEAD & 1) || (fl >> KPF_COMPOUND_TAIL & 1))
      sb_printf(&b, ",\"folio\":%ld", folio_id(s->line, pfn, fl, &heads, &nheads));
    sb_printf(&b, ",\"mappings\":[");
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
  observe_vmas(s, &b);
  observe_ksm(&b);
  sb_printf(&b, "}\n");
  fputs(b.s, stdout);
  fflush(stdout);
  free(b.s);
  free(heads);
  free(g);
  free(e);
  free(ab);
  free(swapped);
}

/* ------------------------------------------------------------------ */
/* ksm */
static void ksm_need(int line) {
  if (access(KSM_DIR "run", F_OK) != 0)
    fail(line, "KSM is not available on this kernel (" KSM_DIR " missing; CONFIG_KSM=n)");
}

/* Whether a live process has a page in a VM_MERGEABLE VMA. ksmd drops an mm from its list when a
 * pass finds no VM_MERGEABLE VMA in it (scan_get_next_rmap_item()), and sleeps while the list is
 * empty (ksmd_should_run()), so full_scans stops: without such a page there is nothing to merge,
 * and nothing to wait for. */
static int any_mergeable(void) {
  for (int i = 0; i < nprocs; i++)
    for (int j = 0; procs[i].used && procs[i].alive && j < procs[i].nreg; j++)
      for (long pg = 0; pg < procs[i].reg[j].size; pg++)
        if (procs[i].reg[j].st[pg] & ST_MERGEABLE) return 1;
  return 0;
}

/* ksmd as `ksm` drives it: no advisor, no smart scan (unless --keep-smart-scan), batches of
 * 10000 pages with 5 ms sleeps (the model's ksmd clock: packages/mm/src/ksm.ts), running. */
static void ksmd_start(int line) {
  if (access(KSM_DIR "advisor_mode", F_OK) == 0) sysfs_change(line, KSM_DIR "advisor_mode", "none");
  if (opt_smart_scan_off && access(KSM_DIR "smart_scan", F_OK) == 0) sysfs_change(line, KSM_DIR "smart_scan", "0");
  sysfs_change(line, KSM_DIR "pages_to_scan", "10000");
  sysfs_change(line, KSM_DIR "sleep_millisecs", "5");
  sysfs_change(line, KSM_DIR "run", "1");
}

/* ksmd stopped (merged pages stay merged; run=0 waits for the batch under way), and its tunables
 * the machine's own again until the next `ksm`. */
static void ksmd_stop(int line) {
  sysfs_change(line, KSM_DIR "run", "0");
  for (int i = 1; i < NKSMKEYS; i++) {
    char file[128];
    snprintf(file, sizeof file, KSM_DIR "%s", ksm_keys[i]);
    journal_put_back(line, file);
  }
}

static void do_ksm(const stmt_t *s) {
  ksm_need(s->line);
  ksm_ran = 1;
  long f0 = ksm_get("full_scans");
  double t0 = now_s();
  if (!any_mergeable()) {
    /* Nothing to merge. But ksmd may still hold rmap_items of this run: of exited processes, or
     * of areas no longer mergeable. Its next pass drops them all, and every mm without a
     * mergeable VMA with them, after which its list may be empty and full_scans stop: one pass. */
    if (ksm_rmap_items() <= ksm_base_items) {
      if (opt_verbose) note("line %d: ksm: no live process has a mergeable VMA, nothing to scan", s->line);
      return;
    }
    ksmd_start(s->line);
    while (ksm_get("full_scans") == f0) {
      if (now_s() - t0 > opt_ksm_timeout)
        fail(s->line, "ksm: no fixed point after %.0f s (ksmd did not finish the scan that drops this run's rmap_items)",
             opt_ksm_timeout);
      sleep_ms(2);
    }
    ksmd_stop(s->line);
    if (opt_verbose) note("line %d: ksm: nothing to merge; one full scan dropped this run's rmap_items", s->line);
    return;
  }
  ksmd_start(s->line);
  long last_scan = -1, stable = 0, counters[3] = {-1, -1, -1};
  long need = f0 + 3;
  for (;;) {
    if (now_s() - t0 > opt_ksm_timeout)
      fail(s->line, "ksm: no fixed point after %.0f s (%ld full scans)", opt_ksm_timeout, ksm_get("full_scans") - f0);
    long fs = ksm_get("full_scans");
    if (fs >= need && fs != last_scan) {
      long c[3] = {ksm_get("pages_shared"), ksm_get("pages_sharing"), ksm_get("pages_unshared")};
      if (fs > need && c[0] == counters[0] && c[1] == counters[1] && c[2] == counters[2]) stable++;
      else stable = 0;
      memcpy(counters, c, sizeof c);
      last_scan = fs;
      if (stable >= 2) break;
    }
    sleep_ms(2);
  }
  ksmd_stop(s->line);
  if (opt_verbose)
    note("line %d: ksm fixed point after %ld full scans (%.2f s): pages_shared=%ld pages_sharing=%ld "
         "pages_unshared=%ld",
         s->line, ksm_get("full_scans") - f0, now_s() - t0, counters[0], counters[1], counters[2]);
}

/* ------------------------------------------------------------------ */
/* execute one statement */
static char kernel_fault_around[64] = "16 (default; debugfs not readable)";

/* read_ahead_kb of the block device that holds DIR (a partition's is its disk's) in pages: the
 * window do_sync_mmap_readahead() reads around a page-cache miss (file->f_ra.ra_pages, which a
 * file takes from its device's bdi when it is opened); -1 when DIR is on no block device. */
static long readahead_pages(const char *dir) {
  struct stat st;
  char path[128], b[64];
  if (stat(dir, &st) < 0) return -1;
  snprintf(path, sizeof path, "/sys/dev/block/%u:%u/queue/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
  if (read_small(path, b, sizeof b) < 0) {
    snprintf(path, sizeof path, "/sys/dev/block/%u:%u/../queue/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
    if (read_small(path, b, sizeof b) < 0) return -1;
  }
  return atol(b) * 1024 / (long)PG;
}

static void report_set(const stmt_t *s) {
  const char *k = s->name;
  char want[256] = "";
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
  } else if (!strcmp(k, "readahead")) {
    const char *dir = tmpdir_made ? tmpdir : tmpbase;
    long ra = readahead_pages(dir);
    if (ra < 0) snprintf(want, sizeof want, "unknown (%.100s is on no block device)", dir);
    else snprintf(want, sizeof want, "%ld (read_ahead_kb of the device of %.100s, in pages)", ra, dir);
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
    if (!strcmp(s->name, "thp")) thp_set(s);
    else report_set(s);
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
    pending_sock = sv[0];
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0) fail(s->line, "fork: %s", strerror(errno));
    if (c == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != controller_pid) _exit(1);
      close(sv[0]);
      close_all_but(sv[1], lock_fd); /* the lock stays taken while a process of the run lives */
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
    pending_sock = -1;
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
    rq.advice = thp_sizes_on ? 0 : MADV_NOHUGEPAGE;
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
        rq.seed = fnv1a(s->arg) ^ run_salt;
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
    pending_sock = sv[0];
    rq.op = W_FORK;
    rsp_t rs = call_worker(s->line, p, &rq, sv[1]);
    close(sv[1]);
    if (rs.rc < 0) { close(sv[0]); pending_sock = -1; syscall_fail(s, "fork", rs.err); }
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
    pending_sock = -1;
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
    for (long i = s->n1; i < s->n1 + s->n2; i++) r->st[i] = (unsigned char)((r->st[i] & ST_MERGEABLE) | s->prot);
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
    /* ksm_madvise() sets VM_MERGEABLE, and enters the mm into KSM, only for a VMA KSM can merge
     * (not VM_SHARED); the journal says so first, so that ksmd frees the mm even if we die. */
    int ksm_vma = r->kind != K_ANON_SHARED && !(r->kind == K_FILE && r->shared);
    if (s->advice == MADV_MERGEABLE && ksm_vma && !journal_ksm) {
      journal_ksm = 1;
      journal_write(s->line);
    }
    rq.op = W_MADVISE;
    rq.addr = r->base;
    rq.len = (unsigned long)r->size * PG;
    rq.advice = s->advice;
    rsp_t rs = call_worker(s->line, p, &rq, -1);
    if (rs.rc < 0) syscall_fail(s, "madvise", rs.err);
    if ((s->advice == MADV_MERGEABLE && ksm_vma) || s->advice == MADV_UNMERGEABLE)
      for (long pg = 0; pg < r->size; pg++)
        if (PST(r->st[pg]) != S_UNMAPPED)
          r->st[pg] = (unsigned char)(s->advice == MADV_MERGEABLE ? r->st[pg] | ST_MERGEABLE : PST(r->st[pg]));
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

/* `set thp never|SIZE[,SIZE...]` (contract v2): the sizes as a mask, bit i for 16K << i. */
static void parse_thp(int line, const tok_t *v, stmt_t *s) {
  static const char *names[NTHPSIZES] = {"16K", "32K", "64K", "128K", "256K", "512K", "1M", "2M"};
  s->n1 = 0;
  if (!strcmp(v->t, "never")) return;
  char buf[MAXNAME];
  snprintf(buf, sizeof buf, "%s", v->t);
  char *save = NULL;
  for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    int i = 0;
    while (i < NTHPSIZES && strcmp(w, names[i])) i++;
    if (i == NTHPSIZES) syntax(line, v->col + (int)(w - buf), "expected never or sizes of 16K 32K 64K 128K 256K 512K 1M 2M, got '%s'", w);
    s->n1 |= 1L << i;
  }
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
        if (!strcmp(s->name, "thp")) parse_thp(line, &a[1], s);
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
      NEED(2, 2, "P: madvise REGION mergeable|unmergeable|dontneed|pageout|cold|hugepage|nohugepage");
      s->op = OP_MADVISE;
      NAME(0, s->name);
      const char *m = a[1].t;
      if (!strcmp(m, "mergeable")) s->advice = MADV_MERGEABLE;
      else if (!strcmp(m, "unmergeable")) s->advice = MADV_UNMERGEABLE;
      else if (!strcmp(m, "dontneed")) s->advice = MADV_DONTNEED;
      else if (!strcmp(m, "pageout")) s->advice = MADV_PAGEOUT;
      else if (!strcmp(m, "cold")) s->advice = MADV_COLD;
      else if (!strcmp(m, "hugepage")) s->advice = MADV_HUGEPAGE;
      else if (!strcmp(m, "nohugepage")) s->advice = MADV_NOHUGEPAGE;
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
        "  --wait SEC          wait this long for another run to finish (default 180;\n"
        "                      0: exit 3 at once if one is running)\n"
        "  --sysfs FILE=VALUE  set FILE under /sys/kernel/mm/ (transparent_hugepage/... or\n"
        "                      ksm/...) for this run; restored like every value the helper changes\n"
        "  --recover           only restore what a run that was killed left changed, and exit\n"
        "  --help, --version\n"
        "\n"
        "One run at a time (" STATE_DIR "/lock). Every sysfs value the helper changes is\n"
        "journalled in " STATE_DIR "/state before it changes and restored at exit; a run\n"
        "that finds the journal of a run that was killed restores it first.\n"
        "\n"
        "exit status: 0 ok, 1 scenario or kernel error, 2 usage or syntax error,\n"
        "3 busy (another run held the lock for --wait seconds)\n",
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
  {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)controller_pid << 44);
    run_salt = splitmix64(&x);
  }
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
    else if (!strcmp(a, "--wait") && i + 1 < argc) opt_wait = atof(argv[++i]);
    else if (!strcmp(a, "--recover")) opt_recover_only = 1;
    else if (!strcmp(a, "--sysfs") && i + 1 < argc) {
      const char *kv = argv[++i], *eq = strchr(kv, '=');
      if (!eq || eq[1] == 0 || strstr(kv, "..") ||
          (strncmp(kv, "transparent_hugepage/", 21) && strncmp(kv, "ksm/", 4)))
        die_usage("--sysfs takes FILE=VALUE, FILE under transparent_hugepage/ or ksm/ (of " SYSFS_MM ")");
      if (nopt_sysfs == MAXSYSFSOPT) die_usage("at most %d --sysfs options", MAXSYSFSOPT);
      opt_sysfs[nopt_sysfs++] = kv;
    }
    else if (a[0] == '-' && a[1]) die_usage("unknown option %s (try --help)", a);
    else if (path) die_usage("only one scenario file");
    else path = a;
  }
  char *text;
  if (opt_recover_only) text = calloc(1, 1);
  else if (!path || !strcmp(path, "-")) text = slurp(stdin);
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
  if (uses_ksm) ksm_need(0);
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

  /* one run at a time; what a run that died changed comes back first */
  const char *env_tmp = getenv("TMPDIR");
  const char *base = opt_tmpbase ? opt_tmpbase : env_tmp && *env_tmp ? env_tmp : "/var/tmp";
  snprintf(tmpbase, sizeof tmpbase, "%s", base);
  take_lock();
  recover();
  sweep_tmp(base);
  if (opt_recover_only) {
    cleanup_async();
    return 0;
  }
  for (int i = 0; i < nopt_sysfs; i++) {
    char file[160], *eq;
    snprintf(file, sizeof file, SYSFS_MM "%s", opt_sysfs[i]);
    eq = strchr(file, '=');
    *eq = 0;
    sysfs_change(0, file, eq + 1);
  }
  if (uses_ksm) {
    /* all KSM files first, so that the end of the run (maybe in a signal handler) only writes
     * journalled files; ksmd then merges only at `ksm` statements */
    for (int i = 0; i < NKSMKEYS; i++) {
      char file[128];
      snprintf(file, sizeof file, KSM_DIR "%s", ksm_keys[i]);
      if (access(file, F_OK) == 0) journal_record(0, file);
    }
    sysfs_change(0, KSM_DIR "run", "0");
    ksm_take_baseline();
  }
  int thp_used = 0;
  for (int i = 0; i < nstmts; i++)
    if ((stmts[i].op == OP_SET && !strcmp(stmts[i].name, "thp") && stmts[i].n1) ||
        (stmts[i].op == OP_MADVISE && stmts[i].advice == MADV_HUGEPAGE))
      thp_used = 1;
  if (thp_used) khugepaged_asleep();
  for (int i = 0; i < nstmts; i++)
    if (stmts[i].op == OP_MADVISE && stmts[i].advice == MADV_HUGEPAGE) {
      thp_never();
      break;
    }

  if (opt_pin) {
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    if (sched_setaffinity(0, sizeof cs, &cs) < 0) note("warning: cannot pin to CPU 0: %s", strerror(errno));
  }

  /* temp dir for files, named after this process: the next run can tell it from one of an older helper */
  snprintf(tmpdir, sizeof tmpdir, "%s/rmaplab-kcheck.%d.XXXXXX", base, (int)controller_pid);
  int need_files = 0;
  for (int i = 0; i < nstmts; i++)
    if (stmts[i].op == OP_MMAP && stmts[i].kind == K_FILE) need_files = 1;
  if (need_files) {
    if (!mkdtemp(tmpdir)) fail(0, "cannot create a temp dir under %s: %s", base, strerror(errno));
    tmpdir_made = 1;
    journal_write(0);
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
