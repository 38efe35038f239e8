/**
 * rmap_walk() and its two object-based walks — mm/rmap.c (4.9, with 6.12's try_lock): from a page,
 * find every VMA that may map it through the page's anon_vma tree or its file's i_mmap tree, compute
 * where (vma_address) and hand each to the client's rmap_one. KSM pages go to rmap_walk_ksm (ksm.ts).
 * Every walk can record what it did in a {@link WalkLog} and, when the system is traced, emits
 * `walk` events (and the locks' own events) that the CLI prints and the web app animates. The walk
 * computes with 4.9's SWAP_* codes; its events give results as the release returns them (codes.ts).
 */
import {
  type AddressSpace,
  type AnonVma,
  AnonVmaChain,
  anonVmaLockRead,
  anonVmaUnlockRead,
  type MmSystem,
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  type Page,
  PageAnon,
  PageKsm,
  PageLocked,
  PageSwapCache,
  type PhysMem,
  PTE_PRESENT,
  PTE_SPECIAL,
  type PteTable,
  pageAnonVma,
  pageMapped,
  pmdIndex,
  pteIndex,
  putAnonVma,
  type TraceRefs,
  taskName,
  type VmArea,
  vmaAddress,
} from '@rmaplab/mm';
import { rmapOneWord, SWAP_AGAIN, walkResultWord } from './codes.js';
import { rmapWalkKsm } from './ksm.js';

/**
 * `struct rmap_walk_control` — include/linux/rmap.h (4.9), with 6.12's `try_lock` / `contended`.
 * Callbacks take the system and a frame number first, as everywhere in the model.
 */
export interface RmapWalkControl<A = unknown> {
  /** rwc->arg: the client's private state, handed to rmapOne and invalidVma. */
  arg: A;
  /**
   * Model addition: the kernel's name of rmap_one (`try_to_unmap_one`, ...), which trace events
   * carry. Spelled out because a minified build renames the functions.
   */
  name: string;
  /** rwc->rmap_one: SWAP_AGAIN continues the walk; anything else stops it and is its result. */
  rmapOne: (sys: MmSystem, pfn: number, vma: VmArea, address: number, arg: A) => number;
  /** rwc->done: true stops the walk after the VMA just visited. */
  done: ((sys: MmSystem, pfn: number) => boolean) | null;
  /** rwc->anon_lock: replaces the default anon_vma lookup-and-lock (page_anon_vma + anon_vma_lock_read). */
  anonLock: ((sys: MmSystem, pfn: number, rwc: RmapWalkControl<A>) => AnonVma | null) | null;
  /** rwc->invalid_vma: true skips the VMA. */
  invalidVma: ((vma: VmArea, arg: A) => boolean) | null;
  /** rwc->try_lock (6.12): never sleep on an rmap lock; give up and set `contended` instead. */
  tryLock?: boolean;
  /** rwc->contended (6.12): set when a try_lock walk gave up on a lock. */
  contended?: boolean;
}

/** Which structure a walk went through. */
export type WalkKind = 'anon' | 'file' | 'ksm';

/** visitVma's result for a VMA that invalid_vma rejected (rmap_one did not run). */
export const VISIT_SKIPPED = -1;

/** One VMA a walk reached, in walk order. */
export interface WalkVisit {
  vma: VmArea;
  /** vma_address() of the page in it (KSM: rmap_item->address). */
  address: number;
  /** The anon_vma_chain that led there (anon and KSM walks). */
  avc: AnonVmaChain | null;
  /** rmap_one's result as the model's SWAP_* code, or 'skipped' when invalid_vma rejected the VMA. */
  result: number | 'skipped';
  /** What the PTE probe (page_check_address) found, if rmap_one probed. */
  pte: 'found' | 'none' | null;
}

/** What rmap_one's PTE probe found, as a log keeps it: not probed, the page, or not the page. */
const PTE_NOT_PROBED = 0;
const PTE_FOUND = 1;
const PTE_NONE = 2;

/**
 * What one walk did, for programmatic use (the trace carries the same as events). A walk of a page
 * mapped a thousand times records a thousand visits, and most logs are never read: so the visits
 * are kept as columns (typed arrays where they can be), sized for the page's mapcount when the
 * walk starts — no object and no reallocation per visit — and `visits` turns them into objects for
 * whoever reads them.
 */
export class WalkLog {
  kind: WalkKind | null = null;
  /** The anon_vma whose tree was searched (null when it could not be locked, or for a file page). */
  anonVma: AnonVma | null = null;
  /** The address_space whose i_mmap was searched. */
  mapping: AddressSpace | null = null;
  /** The walk's return value. */
  result = SWAP_AGAIN;
  /** Why the walk ended early: rmap_one's result, done(page), or null when it saw every VMA. */
  stop: 'rmap_one' | 'done' | null = null;
  #count = 0;
  /**
   * How the walk reached each VMA: the anon_vma_chain (anon and KSM walks), whose `vma` it is, or
   * the VMA itself (file walks).
   */
  #via: (AnonVmaChain | VmArea)[] = [];
  /** vma_address() of the page in each VMA (KSM: rmap_item->address). */
  #addresses = new Float64Array(0);
  /** rmap_one's SWAP_* result for each (they fit a byte), or VISIT_SKIPPED. */
  #results = new Int8Array(0);
  /** PTE_* for each. */
  #ptes = new Uint8Array(0);
  /** The PTE probe of the visit in progress, until the visit is recorded. */
  #probe = PTE_NOT_PROBED;

  /** How many VMAs the walk visited (skipped ones included). */
  get count(): number {
    return this.#count;
  }

  /** The visits as objects, in walk order (a new array at each read). */
  get visits(): WalkVisit[] {
    const visits: WalkVisit[] = [];
    for (let i = 0; i < this.#count; i++) {
      const via = this.#via[i];
      const avc = via instanceof AnonVmaChain ? via : null;
      const result = this.#results[i];
      const pte = this.#ptes[i];
      visits.push({
        vma: avc ? avc.vma : (via as VmArea),
        address: this.#addresses[i],
        avc,
        result: result === VISIT_SKIPPED ? 'skipped' : result,
        pte: pte === PTE_FOUND ? 'found' : pte === PTE_NONE ? 'none' : null,
      });
    }
    return visits;
  }

  /** @internal Room for `n` visits in all, so that recording them allocates nothing more. */
  reserve(n: number): void {
    if (n <= this.#addresses.length) return;
    const grow = <T extends Float64Array | Int8Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const a = make(n);
      a.set(old);
      return a;
    };
    this.#addresses = grow(this.#addresses, (k) => new Float64Array(k));
    this.#results = grow(this.#results, (k) => new Int8Array(k));
    this.#ptes = grow(this.#ptes, (k) => new Uint8Array(k));
    const via = new Array<AnonVmaChain | VmArea>(n);
    for (let i = 0; i < this.#count; i++) via[i] = this.#via[i];
    this.#via = via;
  }

  /** @internal A visit, once rmap_one returned `result` (or invalid_vma skipped it: VISIT_SKIPPED). */
  record(vma: VmArea, address: number, avc: AnonVmaChain | null, result: number): void {
    const i = this.#count;
    if (i === this.#addresses.length) this.reserve(Math.max(16, 2 * i));
    this.#via[i] = avc ?? vma;
    this.#addresses[i] = address;
    this.#results[i] = result;
    this.#ptes[i] = this.#probe;
    this.#probe = PTE_NOT_PROBED;
    this.#count = i + 1;
  }

  /** @internal What the PTE probe of the visit in progress found. */
  probed(found: boolean): void {
    this.#probe = found ? PTE_FOUND : PTE_NONE;
  }
}

/** An empty log to pass to {@link rmapWalk}. */
export function newWalkLog(): WalkLog {
  return new WalkLog();
}

/** The log of the walk in progress (walks do not run concurrently in the model). */
let activeLog: WalkLog | null = null;

function pfnOf(page: Page | number): number {
  return typeof page === 'number' ? page : page.pfn;
}

/** A `walk` trace event of the current task (callers check `sys.tracing` first). */
export function walkEvent(sys: MmSystem, fn: string, msg: string, refs?: TraceRefs): void {
  sys.emit({ kind: 'walk', fn, task: taskName(sys.current), msg, refs });
}

/**
 * rmap_walk() — mm/rmap.c: dispatch on the page's kind. Returns the walk's SWAP_* value (4.9's
 * int; void from 4.12, which its callers in the model do not read then); `log`, when given, is
 * filled with the visited VMAs. The lock traffic is in the trace (`lock` events).
 */
export function rmapWalk<A>(
  sys: MmSystem,
  page: Page | number,
  rwc: RmapWalkControl<A>,
  log?: WalkLog,
): number {
  return logged(sys, pfnOf(page), rwc, false, log ?? null);
}

/**
 * rmap_walk_locked() — mm/rmap.c: the caller already holds the anon_vma or i_mmap lock (THP split,
 * TTU_RMAP_LOCKED). Not for KSM pages.
 */
export function rmapWalkLocked<A>(
  sys: MmSystem,
  page: Page | number,
  rwc: RmapWalkControl<A>,
  log?: WalkLog,
): number {
  const pfn = pfnOf(page);
  if (PageKsm(sys.mem, pfn)) throw new Error(`rmap_walk_locked: pfn ${pfn} is a KSM page (VM_BUG_ON_PAGE)`);
  return logged(sys, pfn, rwc, true, log ?? null);
}

function logged<A>(
  sys: MmSystem,
  pfn: number,
  rwc: RmapWalkControl<A>,
  locked: boolean,
  log: WalkLog | null,
) {
  const outer = activeLog;
  activeLog = log;
  // A whole walk visits every VMA that maps the page (and perhaps others): room for those first.
  log?.reserve(sys.mem.mapcount[pfn] + 1);
  try {
    const ret = dispatch(sys, pfn, rwc, locked);
    if (log) log.result = ret;
    return ret;
  } finally {
    activeLog = outer;
  }
}

function dispatch<A>(sys: MmSystem, pfn: number, rwc: RmapWalkControl<A>, locked: boolean): number {
  const mem = sys.mem;
  if (PageKsm(mem, pfn)) return rmapWalkKsm(sys, pfn, rwc);
  if (PageAnon(mem, pfn)) return rmapWalkAnon(sys, pfn, rwc, locked);
  return rmapWalkFile(sys, pfn, rwc, locked);
}

/**
 * The per-VMA step shared by every walk (anon, file, KSM): invalid_vma, then rmap_one, recorded and
 * traced. Returns rmap_one's result, or VISIT_SKIPPED.
 */
export function visitVma<A>(
  sys: MmSystem,
  pfn: number,
  rwc: RmapWalkControl<A>,
  vma: VmArea,
  address: number,
  avc: AnonVmaChain | null,
  foreach: string,
): number {
  const log = activeLog;
  if (sys.tracing)
    walkEvent(sys, foreach, `${vma.name} of mm${vma.vmMm.id} at 0x${address.toString(16)}`, {
      avc: avc?.id,
      vma: vma.id,
      mm: vma.vmMm.id,
      addr: address,
    });
  if (rwc.invalidVma?.(vma, rwc.arg)) {
    log?.record(vma, address, avc, VISIT_SKIPPED);
    if (sys.tracing)
      walkEvent(sys, 'invalid_vma', `${vma.name} skipped`, { vma: vma.id, addr: address, result: 'skipped' });
    return VISIT_SKIPPED;
  }
  const ret = rwc.rmapOne(sys, pfn, vma, address, rwc.arg);
  log?.record(vma, address, avc, ret);
  if (sys.tracing) {
    const result = rmapOneWord(sys.rules, ret);
    walkEvent(sys, rwc.name, `${vma.name}: ${result}`, {
      vma: vma.id,
      addr: address,
      pfn,
      result,
      code: ret,
    });
  }
  return ret;
}

/**
 * The walk's stop rule after a visit: rmap_one said stop, or done(page). Records the reason and
 * emits the `done` event.
 */
export function walkStops<A>(sys: MmSystem, pfn: number, rwc: RmapWalkControl<A>, ret: number): boolean {
  if (ret !== SWAP_AGAIN) {
    if (activeLog) activeLog.stop = 'rmap_one';
    return true;
  }
  if (rwc.done?.(sys, pfn)) {
    if (activeLog) activeLog.stop = 'done';
    if (sys.tracing) walkEvent(sys, 'done', `done(pfn ${pfn}): stop`, { pfn });
    return true;
  }
  return false;
}

/** Start of a walk: record its kind and emit its first event. */
export function walkBegin(
  sys: MmSystem,
  fn: string,
  kind: WalkKind,
  pfn: number,
  anonVma: AnonVma | null,
  mapping: AddressSpace | null,
): void {
  if (activeLog) {
    activeLog.kind = kind;
    activeLog.anonVma = anonVma;
    activeLog.mapping = mapping;
  }
  if (sys.tracing)
    walkEvent(
      sys,
      fn,
      `pfn ${pfn} index ${sys.mem.index[pfn]} via ${anonVma?.name ?? mapping?.name ?? 'nothing (not locked)'}`,
      { pfn, anonVma: anonVma?.id, file: mapping?.name },
    );
}

/** End of a walk: the final event carrying its result (from 4.12: `void`). */
export function walkEnd(sys: MmSystem, fn: string, pfn: number, ret: number): number {
  if (sys.tracing) {
    const result = walkResultWord(sys.rules, ret);
    walkEvent(sys, fn, `returns ${result}`, { pfn, result });
  }
  return ret;
}

/**
 * rmap_walk_anon() — mm/rmap.c: lock the page's anon_vma (rmap_walk_anon_lock, or nothing when
 * `locked`), then visit every AVC of its tree that covers the page's offset, in tree order.
 */
export function rmapWalkAnon<A>(
  sys: MmSystem,
  pfn: number,
  rwc: RmapWalkControl<A>,
  locked: boolean,
): number {
  let av: AnonVma | null;
  if (locked) {
    av = pageAnonVma(sys.mem, pfn);
    if (!av) throw new Error(`rmap_walk_anon(locked): pfn ${pfn} has no anon_vma (VM_BUG_ON_PAGE)`);
    if (!sys.locks.isHeld(sys.current, av.root.rwsem))
      throw new Error(`rmap_walk_locked: ${sys.current.name} does not hold ${av.root.rwsem.name}`);
  } else av = rmapWalkAnonLock(sys, pfn, rwc);
  walkBegin(sys, 'rmap_walk_anon', 'anon', pfn, av, null);
  let ret = SWAP_AGAIN;
  if (!av) return walkEnd(sys, 'rmap_walk_anon', pfn, ret);
  const pgoff = sys.mem.index[pfn];
  const tree = av.rbRoot;
  try {
    for (let n = tree.iterFirst(pgoff, pgoff); n; n = tree.iterNext(n, pgoff, pgoff)) {
      const avc = n.value;
      const vma = avc.vma;
      const address = checkedAddress(vma, pgoff, pfn);
      const r = visitVma(sys, pfn, rwc, vma, address, avc, 'anon_vma_interval_tree_foreach');
      if (r < 0) continue;
      ret = r;
      if (walkStops(sys, pfn, rwc, ret)) break;
    }
  } finally {
    if (!locked) anonVmaUnlockRead(sys, av);
  }
  return walkEnd(sys, 'rmap_walk_anon', pfn, ret);
}

function checkedAddress(vma: VmArea, pgoff: number, pfn: number): number {
  const address = vmaAddress(vma, pgoff);
  if (address < 0) throw new Error(`vma_address: pfn ${pfn} (index ${pgoff}) is outside ${vma.name}`);
  return address;
}

/**
 * rmap_walk_anon_lock() — mm/rmap.c: rwc->anon_lock if set; otherwise page_anon_vma() and a
 * blocking anon_vma_lock_read() (6.12 trylocks first and honours try_lock).
 */
function rmapWalkAnonLock<A>(sys: MmSystem, pfn: number, rwc: RmapWalkControl<A>): AnonVma | null {
  if (rwc.anonLock) return rwc.anonLock(sys, pfn, rwc);
  const av = pageAnonVma(sys.mem, pfn);
  if (!av) return null;
  if (sys.rules['rmap-trylock']) {
    if (av.root.rwsem.downReadTrylock(sys.current)) return av;
    if (rwc.tryLock) {
      rwc.contended = true;
      return null;
    }
  }
  anonVmaLockRead(sys, av);
  return av;
}

/**
 * rmap_walk_file() — mm/rmap.c: the page lock is required (it keeps page->mapping stable); take
 * i_mmap_rwsem for read (6.12: trylock first, honouring try_lock) and visit every VMA of i_mmap
 * that covers the page's offset.
 */
export function rmapWalkFile<A>(
  sys: MmSystem,
  pfn: number,
  rwc: RmapWalkControl<A>,
  locked: boolean,
): number {
  const mem = sys.mem;
  if (!PageLocked(mem, pfn)) throw new Error(`rmap_walk_file: pfn ${pfn} is not locked (VM_BUG_ON_PAGE)`);
  const mapping = pageFileMapping(mem, pfn);
  let ret = SWAP_AGAIN;
  if (!mapping) {
    walkBegin(sys, 'rmap_walk_file', 'file', pfn, null, null);
    return walkEnd(sys, 'rmap_walk_file', pfn, ret);
  }
  const t = sys.current;
  if (locked) {
    if (!sys.locks.isHeld(t, mapping.iMmapRwsem))
      throw new Error(`rmap_walk_locked: ${t.name} does not hold ${mapping.iMmapRwsem.name}`);
  } else if (!sys.rules['rmap-trylock'] || !mapping.iMmapRwsem.downReadTrylock(t)) {
    if (sys.rules['rmap-trylock'] && rwc.tryLock) {
      rwc.contended = true;
      walkBegin(sys, 'rmap_walk_file', 'file', pfn, null, null);
      return walkEnd(sys, 'rmap_walk_file', pfn, ret);
    }
    mapping.iMmapRwsem.downRead(t);
  }
  walkBegin(sys, 'rmap_walk_file', 'file', pfn, null, mapping);
  const pgoff = mem.index[pfn];
  const tree = mapping.iMmap;
  try {
    for (let n = tree.iterFirst(pgoff, pgoff); n; n = tree.iterNext(n, pgoff, pgoff)) {
      const vma = n.value;
      const r = visitVma(
        sys,
        pfn,
        rwc,
        vma,
        checkedAddress(vma, pgoff, pfn),
        null,
        'vma_interval_tree_foreach',
      );
      if (r < 0) continue;
      ret = r;
      if (walkStops(sys, pfn, rwc, ret)) break;
    }
  } finally {
    if (!locked) mapping.iMmapRwsem.upRead(t);
  }
  return walkEnd(sys, 'rmap_walk_file', pfn, ret);
}

/**
 * The address_space of a page-cache page: page->mapping when it carries no PAGE_MAPPING_FLAGS tag;
 * null for anonymous and KSM pages.
 */
export function pageFileMapping(mem: PhysMem, pfn: number): AddressSpace | null {
  return (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === 0 ? (mem.mapping[pfn] as AddressSpace | null) : null;
}

/**
 * page_mapping() — mm/util.c: the page cache's address_space, or for an anonymous page the swap
 * cache while PG_swapcache is set (named only: the model has no swapper address_space); null for
 * other anonymous and KSM pages.
 */
export function pageMapping(mem: PhysMem, pfn: number): AddressSpace | 'swapper_space' | null {
  if (PageSwapCache(mem, pfn)) return 'swapper_space';
  return pageFileMapping(mem, pfn);
}

/** The anon_vma page->mapping points at, if the page is anonymous (not KSM) and mapped. */
function mappedAnonVma(sys: MmSystem, pfn: number): AnonVma | null {
  const mem = sys.mem;
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_ANON) return null;
  if (!pageMapped(mem, pfn)) return null;
  return mem.mapping[pfn] as AnonVma;
}

/**
 * page_lock_anon_vma_read() — mm/rmap.c (6.12 folio_lock_anon_vma_read): the fast path trylocks the
 * root's rwsem and needs no reference; otherwise pin the anon_vma and sleep on the lock (6.12 with
 * try_lock: give up, contended). The model cannot sleep: a lock held by another task surfaces as
 * LockContendedError, with the pin dropped again. Null when the page is not a mapped anon page or
 * the anon_vma went away.
 */
export function pageLockAnonVmaRead<A>(sys: MmSystem, pfn: number, rwc?: RmapWalkControl<A>): AnonVma | null {
  const av = mappedAnonVma(sys, pfn);
  if (!av) return null;
  const t = sys.current;
  const root = av.root;
  if (root.rwsem.downReadTrylock(t)) {
    if (pageMapped(sys.mem, pfn)) return av;
    root.rwsem.upRead(t);
    return null;
  }
  if (sys.rules['rmap-trylock'] && rwc?.tryLock) {
    rwc.contended = true;
    return null;
  }
  if (av.refcount === 0) return null;
  av.refcount++;
  try {
    anonVmaLockRead(sys, av);
  } catch (e) {
    putAnonVma(sys, av);
    throw e;
  }
  if (av.refcount === 1) {
    // We held the last reference: unlock first, as put_anon_vma would take the lock again.
    anonVmaUnlockRead(sys, av);
    putAnonVma(sys, av);
    return null;
  }
  av.refcount--;
  return av;
}

/**
 * page_get_anon_vma() — mm/rmap.c: a reference on the page's anon_vma (no lock), so that it outlives
 * the page's last mapping; migration holds it while the page is unmapped. Drop with putAnonVma.
 */
export function pageGetAnonVma(sys: MmSystem, pfn: number): AnonVma | null {
  const av = mappedAnonVma(sys, pfn);
  if (!av || av.refcount === 0) return null;
  av.refcount++;
  return av;
}

/**
 * page_check_address() — mm/rmap.c (4.9; 4.11's page_vma_mapped_walk, whose name its event takes
 * there: rule page-vma-mapped-walk): the PTE in `vma` at `address`, if it is present and maps
 * `pfn`, returned with its table's lock held (unlock with `t.ptl.unlock(sys.current)`). Without
 * `sync` (PVMW_SYNC) a non-present PTE is rejected before locking.
 */
export function pageCheckAddress(
  sys: MmSystem,
  pfn: number,
  vma: VmArea,
  address: number,
  sync: boolean,
): PteTable | null {
  const t = vma.vmMm.pgd.lookup(pmdIndex(address));
  let found: PteTable | null = null;
  if (t) {
    const i = pteIndex(address);
    if (sync || t.bits[i] & PTE_PRESENT) {
      t.ptl.lock(sys.current);
      const bits = t.bits[i];
      if (bits & PTE_PRESENT && !(bits & PTE_SPECIAL) && t.pfn[i] === pfn) found = t;
      else t.ptl.unlock(sys.current);
    }
  }
  notePteProbe(sys, 'page_check_address', pfn, vma, address, found !== null);
  return found;
}

/** Record what an rmap_one's PTE probe found at `address` (log and `fn` trace event). */
export function notePteProbe(
  sys: MmSystem,
  fn: string,
  pfn: number,
  vma: VmArea,
  address: number,
  found: boolean,
): void {
  const log = activeLog;
  log?.probed(found);
  if (sys.tracing)
    walkEvent(sys, fn, `0x${address.toString(16)} in ${vma.name}: ${found ? 'found' : 'none'}`, {
      vma: vma.id,
      addr: address,
      pfn,
      result: found ? 'found' : 'none',
    });
}
