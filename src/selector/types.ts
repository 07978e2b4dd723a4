/** A node of the fleet (contract section 1). */
export interface FleetNode {
  id: string;
  labels: Record<string, string>;
  connected: boolean;
}
