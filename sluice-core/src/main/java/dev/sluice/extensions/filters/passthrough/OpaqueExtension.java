package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;

/**
 * What the opaque HTTP and network pass-through factories share: an Istio config type that is not
 * in the Envoy API arrives as the {@link Struct} of its JSON payload (see
 * {@code dev.sluice.config.ProtoTypes.opaquePayload}); subclasses name the type and check the
 * fields they know, and the filter is a {@link PassThrough}.
 */
public abstract class OpaqueExtension {
  private final String name;
  private final String typeUrl;
  private final String missing;
  private final String owner;

  /**
   * @param missing the behaviour not implemented yet, for the log line
   * @param owner the work that owns that behaviour
   */
  protected OpaqueExtension(String name, String typeUrl, String missing, String owner) {
    this.name = name;
    this.typeUrl = typeUrl;
    this.missing = missing;
    this.owner = owner;
  }

  public final String name() {
    return name;
  }

  public final String typeUrl() {
    return typeUrl;
  }

  public final Class<Struct> configType() {
    return Struct.class;
  }

  public final Struct defaultInstance() {
    return Struct.getDefaultInstance();
  }

  /** Validates the config and says once what this pass-through leaves out. */
  protected final void accept(Struct config) {
    validate(config);
    PassThrough.announce(name, missing, owner);
  }

  /**
   * Checks the fields this Sluice knows of the config.
   *
   * @throws dev.sluice.api.config.ConfigException naming the offending field
   */
  protected void validate(Struct config) {}
}
