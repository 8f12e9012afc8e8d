/** Envoy-compatible stats: counters, gauges and histograms in named scopes, with tag extraction. */
@NullMarked
package dev.sluice.stats;

import org.jspecify.annotations.NullMarked;
