/** Istio's {@code istio.stats} HTTP filter ({@code stats.PluginConfig}), accepted as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.http.istio_stats;

import org.jspecify.annotations.NullMarked;
