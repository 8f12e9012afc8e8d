/** Per-worker upstream connection pools: HTTP/1.1 keep-alive and multiplexed HTTP/2. */
@NullMarked
package dev.sluice.upstream.pool;

import org.jspecify.annotations.NullMarked;
