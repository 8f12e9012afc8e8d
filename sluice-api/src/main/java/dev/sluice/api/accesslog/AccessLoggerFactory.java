package dev.sluice.api.accesslog;

import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.FactoryContext;

/** An access-log sink extension ({@code envoy.access_loggers.file}, {@code ...stdout}). */
public interface AccessLoggerFactory<C extends Message> extends ExtensionFactory<C> {
  AccessLogger create(C config, FactoryContext context);
}
