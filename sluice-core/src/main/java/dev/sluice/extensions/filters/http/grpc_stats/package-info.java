/** The {@code envoy.filters.http.grpc_stats} HTTP filter, accepted as a pass-through (no gRPC stats yet). */
@NullMarked
package dev.sluice.extensions.filters.http.grpc_stats;

import org.jspecify.annotations.NullMarked;
