export type { FleetNode } from './types.js';
export { formatRequirement, type Operator, type Requirement } from './requirement.js';
export { parseSelectorExpression, type SelectorParseResult } from './parse.js';
export {
  compileMatcher,
  compileSelector,
  InvalidSelectorExpressionError,
  type NodePredicate,
  type SelectorInput,
} from './match.js';
export { compareNodeIds, rolloutOrder, selectTargets } from './order.js';
