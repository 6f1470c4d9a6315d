export { placeInstance, reserve, pickCell, pickStagingCell, type Placement, type Spread } from './placement';
