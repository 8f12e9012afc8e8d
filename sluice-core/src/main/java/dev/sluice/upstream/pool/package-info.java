/** Per-worker upstream connection pools: HTTP/1.1 keep-alive, multiplexed HTTP/2, and ALPN-chosen (auto_config). */
@NullMarked
package dev.sluice.upstream.pool;

import org.jspecify.annotations.NullMarked;
