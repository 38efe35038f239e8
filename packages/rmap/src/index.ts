/**
 * @rmaplab/rmap — rmap_walk and its clients over the @rmaplab/mm model: try_to_unmap with the
 * SWAP_* results, try_to_munlock, page_referenced, page_mkclean, migration and reclaim of one page,
 * all under the simulated locks of @rmaplab/locks.
 */
export * from './codes.js';
export * from './completeness.js';
export * from './install.js';
export * from './kernel-warn.js';
export * from './ksm.js';
export * from './migrate.js';
export * from './page-mkclean.js';
export * from './page-referenced.js';
export * from './preconditions.js';
export * from './report.js';
export * from './rmap-walk.js';
export * from './try-to-unmap.js';
export * from './vmscan.js';
