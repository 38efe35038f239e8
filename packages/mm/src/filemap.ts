/**
 * The page cache of mm/filemap.c and mm/shmem.c, reduced to what rmap needs: files whose pages are
 * resident and clean (as right after they were written), and shmem files whose pages appear on
 * first touch.
 */
import { PG_dirty, PG_readahead, PG_reclaim, PG_swapbacked, PG_uptodate } from './constants.js';
import { CONTENT_ZERO } from './page.js';
import { lockPage, unlockPage } from './page-lock.js';
import { putPage } from './rmap.js';
import type { MmSystem } from './system.js';
import type { File } from './types.js';

/** add_to_page_cache_lru() — mm/filemap.c: a new page at `index` of `file`, held by the cache. */
function addToPageCache(sys: MmSystem, file: File, index: number, content: number): number {
  const mem = sys.mem;
  const pfn = mem.allocPage(content);
  mem.flags[pfn] |= 1 << PG_uptodate;
  if (file.shmem) mem.flags[pfn] |= 1 << PG_swapbacked;
  mem.mapping[pfn] = file.mapping;
  mem.mappingTag[pfn] = 0;
  mem.index[pfn] = index;
  file.mapping.pageTree.set(index, pfn);
  return pfn;
}

/**
 * Open (or create) the regular file `name`. A new file gets `pages` pages, each with content of its
 * own, all resident and clean in the page cache. An existing one is returned as it is.
 */
export function openFile(sys: MmSystem, name: string, pages: number): File {
  const existing = sys.files.get(name);
  if (existing) {
    if (existing.shmem) throw new Error(`${name} is a shmem file`);
    return existing;
  }
  const file = sys.newFile(name, pages, false);
  for (let i = 0; i < pages; i++) addToPageCache(sys, file, i, sys.newContent());
  if (sys.tracing)
    sys.trace('filemap_write_and_wait', `file ${name}: ${pages} pages resident and clean`, { file: name });
  return file;
}

/**
 * Make `file` at least `pages` long as the kernel side of `verify` does: write the new pages (each
 * with content of its own) and fsync the file, so that every page of it is resident and clean —
 * the pages dirtied through a shared mapping before too (filemap_write_and_wait).
 */
export function extendFile(sys: MmSystem, file: File, pages: number): File {
  if (file.shmem) throw new Error(`${file.name} is a shmem file`);
  if (pages <= file.sizePages) return file;
  for (let i = file.sizePages; i < pages; i++) addToPageCache(sys, file, i, sys.newContent());
  file.sizePages = pages;
  filemapWriteAndWait(sys, file);
  return file;
}

/**
 * filemap_write_and_wait() — mm/filemap.c, as fsync(2) runs it: each dirty page of the file is
 * locked and written back. clear_page_dirty_for_io() first write-protects and cleans the shared
 * PTEs that map it (page_mkclean, installed by @rmaplab/rmap), so that the next write through them
 * faults and dirties the page again. The write completes at once, and end_page_writeback() clears
 * the PG_reclaim that reclaim may have left on the page for this very writeback.
 */
function filemapWriteAndWait(sys: MmSystem, file: File): void {
  const mem = sys.mem;
  let written = 0;
  for (const [index, pfn] of file.mapping.pageTree) {
    if (!(mem.flags[pfn] & (1 << PG_dirty))) continue;
    if (!sys.pageMkclean)
      throw new Error('writeback needs page_mkclean: install @rmaplab/rmap (sys.pageMkclean)');
    lockPage(sys, pfn);
    sys.pageMkclean(pfn);
    mem.flags[pfn] &= ~((1 << PG_dirty) | (1 << PG_reclaim));
    file.mapping.disk.set(index, mem.content[pfn]);
    unlockPage(sys, pfn);
    written++;
  }
  if (sys.tracing && written)
    sys.trace('filemap_write_and_wait', `file ${file.name}: ${written} dirty pages written back`, {
      file: file.name,
    });
}

/** shmem_zero_setup() — mm/shmem.c: the shmem file behind one shared anonymous mapping. */
export function shmemZeroSetup(sys: MmSystem, pages: number): File {
  return sys.newFile(`dev/zero#${sys.nextId()}`, pages, true);
}

/**
 * shmem_evict_inode() — mm/shmem.c: the last reference to a shmem object went with its last VMA
 * (a shared anonymous mapping has no other), so its pages leave the cache (truncate: page->mapping
 * cleared, the cache's reference dropped) and the object is gone.
 */
export function shmemEvictInode(sys: MmSystem, file: File): void {
  const mem = sys.mem;
  for (const pfn of file.mapping.pageTree.values()) {
    mem.mapping[pfn] = null;
    putPage(sys, pfn);
  }
  file.mapping.pageTree.clear();
  sys.files.delete(file.name);
  if (sys.tracing) sys.trace('shmem_evict_inode', `${file.name} freed`, { file: file.name });
}

/** find_get_page() — include/linux/pagemap.h: the cached page at `index`, or -1. */
export function findGetPage(file: File, index: number): number {
  return file.mapping.pageTree.get(index) ?? -1;
}

/**
 * filemap_fault() / shmem_fault(): the page at `index`, read in if needed. A regular file's page is
 * resident unless reclaim dropped it, and then it is read back from `mapping.disk`; shmem allocates
 * a zeroed, swap-backed page. Returns -1 beyond EOF (SIGBUS).
 */
export function pageCacheFault(sys: MmSystem, file: File, index: number): number {
  if (index >= file.sizePages) return -1;
  const pfn = findGetPage(file, index);
  if (pfn >= 0) {
    if (!file.shmem) doAsyncMmapReadahead(sys, file, pfn);
    return pfn;
  }
  if (!file.shmem) {
    doSyncMmapReadahead(sys, file, index);
    const read = findGetPage(file, index);
    if (read < 0) throw new Error(`page ${index} of ${file.name} is not resident`);
    return read;
  }
  return addToPageCache(sys, file, index, CONTENT_ZERO);
}

/**
 * do_async_mmap_readahead() — mm/filemap.c: a fault that finds its page in the cache with
 * PG_readahead set starts the next readahead window (page_cache_async_readahead), which first
 * clears the bit. That bit is also PG_reclaim, so this is what makes a page that reclaim left for
 * writeback visible to fault-around again. The window it starts is not read: it would bring back
 * only pages missing from the cache ahead of this one (none, unless reclaim dropped them). 6.x drops
 * mmap_lock for this and retries the fault (VM_FAULT_RETRY); the retried fault-around maps the page
 * with the same PTE that the model's fault maps at once.
 */
function doAsyncMmapReadahead(sys: MmSystem, file: File, pfn: number): void {
  const mem = sys.mem;
  if (!(mem.flags[pfn] & (1 << PG_readahead))) return;
  mem.flags[pfn] &= ~(1 << PG_readahead);
  if (sys.tracing)
    sys.trace('page_cache_async_readahead', `${file.name}: PG_readahead cleared on pfn ${pfn}`, {
      file: file.name,
      pfn,
    });
}

/**
 * do_sync_mmap_readahead() — mm/filemap.c (4.9 to 6.18): a page-cache miss in a mapped file reads
 * a window of `readahead` pages (ra_pages) around the faulting index back (mmap read-around: it
 * starts half a window before the fault), so the neighbours become resident too. With no window
 * (ra_pages 0) filemap_fault() reads the missing page alone, as a window of one does.
 */
function doSyncMmapReadahead(sys: MmSystem, file: File, index: number): void {
  const window = Math.max(1, sys.options.readahead);
  const start = Math.max(0, index - Math.floor(window / 2));
  const end = Math.min(file.sizePages, start + window);
  let read = 0;
  for (let i = start; i < end; i++) {
    const content = file.mapping.disk.get(i);
    if (content === undefined || findGetPage(file, i) >= 0) continue;
    addToPageCache(sys, file, i, content);
    read++;
  }
  if (sys.tracing)
    sys.trace('do_sync_mmap_readahead', `${file.name}: read ${read} pages around index ${index}`, {
      file: file.name,
    });
}

/** set_page_dirty() — mm/page-writeback.c */
export function setPageDirty(sys: MmSystem, pfn: number): void {
  sys.mem.flags[pfn] |= 1 << PG_dirty;
}
