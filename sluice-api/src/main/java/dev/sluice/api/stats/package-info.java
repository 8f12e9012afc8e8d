/** Stat interfaces every component declares its stats through. */
@NullMarked
package dev.sluice.api.stats;

import org.jspecify.annotations.NullMarked;
