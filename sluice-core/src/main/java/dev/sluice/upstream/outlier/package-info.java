/** Outlier detection: passive ejection of upstream hosts from traffic results, as Envoy's. */
@NullMarked
package dev.sluice.upstream.outlier;

import org.jspecify.annotations.NullMarked;
