package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import java.util.function.Supplier;

/**
 * An HTTP filter whose config type is Istio's, not in the Envoy API: its config arrives as the
 * {@link Struct} of its JSON payload (see {@code dev.sluice.config.ProtoTypes.opaquePayload}) and
 * the filter is a {@link PassThrough}. Subclasses name the type and check the fields they know.
 */
public abstract class OpaqueHttpFilterFactory implements HttpFilterFactory<Struct> {
  private final String name;
  private final String typeUrl;
  private final String missing;
  private final String owner;

  /**
   * @param missing the behaviour not implemented yet, for the log line
   * @param owner the work that owns that behaviour
   */
  protected OpaqueHttpFilterFactory(String name, String typeUrl, String missing, String owner) {
    this.name = name;
    this.typeUrl = typeUrl;
    this.missing = missing;
    this.owner = owner;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String typeUrl() {
    return typeUrl;
  }

  @Override
  public final Class<Struct> configType() {
    return Struct.class;
  }

  @Override
  public final Struct defaultInstance() {
    return Struct.getDefaultInstance();
  }

  @Override
  public final Supplier<HttpFilter> create(Struct config, String statPrefix, FactoryContext context) {
    validate(config);
    PassThrough.announce(name, missing, owner);
    return () -> PassThrough.HTTP_FILTER;
  }

  /**
   * Checks the fields this Sluice knows of the config.
   *
   * @throws dev.sluice.api.config.ConfigException naming the offending field
   */
  protected void validate(Struct config) {}
}
