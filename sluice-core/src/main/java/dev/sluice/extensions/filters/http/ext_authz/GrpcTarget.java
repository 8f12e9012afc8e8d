package dev.sluice.extensions.filters.http.ext_authz;

import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.upstream.pool.ConnectionPools;

/**
 * Where a unary gRPC call goes (an {@code envoy_grpc} {@code GrpcService}): a cluster of the
 * cluster manager, reached through the server's own per-worker HTTP/2 pools.
 *
 * @param authority {@code envoy_grpc.authority}, else the cluster name (as Envoy)
 * @param timeoutNanos {@code GrpcService.timeout}; 0 for none
 */
record GrpcTarget(String clusterName, String authority, String path, long timeoutNanos, ClusterManager clusters, ConnectionPools pools) {}
