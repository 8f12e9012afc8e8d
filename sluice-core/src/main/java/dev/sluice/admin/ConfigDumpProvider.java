package dev.sluice.admin;

import com.google.protobuf.Message;
import java.util.function.Predicate;

/**
 * One section of {@code /config_dump} (Envoy's config tracker callback): returns a dump message
 * such as {@code envoy.admin.v3.ClustersConfigDump}, keeping only resources whose name the
 * matcher accepts ({@code ?name_regex=}).
 */
@FunctionalInterface
public interface ConfigDumpProvider {
  Message dump(Predicate<String> nameMatcher);
}
