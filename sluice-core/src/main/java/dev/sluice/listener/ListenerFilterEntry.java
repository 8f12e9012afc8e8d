package dev.sluice.listener;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** One compiled {@code listener_filters[i]}: a per-connection filter supplier and its disable predicate. */
record ListenerFilterEntry(String name, Supplier<ListenerFilter> supplier, Predicate<DownstreamConnection> disabled) {}
