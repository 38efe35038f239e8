export { IntervalTreeNode } from './node.js';
export { KERNEL_TEST_SEED, Prandom, prandomSeedState, prandomU32State, type RndState } from './prandom.js';
export { type IntervalNode, type IntervalNodeView, IntervalTree } from './tree.js';
