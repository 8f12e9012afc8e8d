package dev.sluice.listener;

/**
 * Fired as a user event into each connection of a listener that starts draining (removed,
 * replaced, or {@code /drain_listeners}): HTTP answers with {@code Connection: close} or GOAWAY as
 * Envoy's drain close, at once with an {@link DrainDecision#immediate() immediate} drain, else when
 * the {@link DrainDecision} says so on a response. Connections still open at the end of the drain
 * time are closed.
 */
public record ListenerDrainEvent(DrainDecision decision) {}
