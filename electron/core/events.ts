// A tiny typed event bus for the contract's events; transports subscribe and forward.
import { events, type EventName, type EventPayload } from '../shared/contract.js';

export type AnyListener = (name: EventName, payload: unknown) => void;

export class EventBus {
  private listeners = new Set<AnyListener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    // Validating outgoing events too keeps the contract honest in both directions.
    const checked = events[name].parse(payload);
    for (const l of this.listeners) l(name, checked);
  }

  subscribe(listener: AnyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
