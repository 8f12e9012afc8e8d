/** JMH benchmarks of Sluice's hot paths and config compilation; run them with {@code bench/jmh}. */
@NullMarked
package dev.sluice.bench;

import org.jspecify.annotations.NullMarked;
