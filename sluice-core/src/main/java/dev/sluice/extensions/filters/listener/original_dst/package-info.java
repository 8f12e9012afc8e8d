/** {@code envoy.filters.listener.original_dst}: restores the destination a redirected connection was headed to. */
@NullMarked
package dev.sluice.extensions.filters.listener.original_dst;

import org.jspecify.annotations.NullMarked;
