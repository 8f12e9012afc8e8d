/** Istio's {@code istio.set_internal_dst_address} listener filter for internal listeners. */
@NullMarked
package dev.sluice.extensions.filters.listener.set_internal_dst_address;

import org.jspecify.annotations.NullMarked;
