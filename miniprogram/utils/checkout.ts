/**
 * Orders placed in this session, counted: the catalogue page compares the count with the one its quantities were
 * chosen under, and clears them when an order was placed meanwhile (Back from the result page must not invite a
 * second order with the old quantities).
 */
let placed = 0;

export const ordersPlaced = (): number => placed;

export function markOrderPlaced(): void {
  placed += 1;
}
