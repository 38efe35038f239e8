export { IntervalTreeNode, NodeStore } from './node.js';
export { KERNEL_TEST_SEED, Prandom, prandomSeedState, prandomU32State, type RndState } from './prandom.js';
export {
  type IntervalNode,
  type IntervalNodeView,
  IntervalTree,
  type IntervalTreeOptions,
  RELAYOUT_MIN_NODES,
} from './tree.js';
