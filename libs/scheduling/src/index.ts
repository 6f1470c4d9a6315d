export { placeInstance, reserve, pickCell, type Placement, type Spread } from './placement';
