package dev.aegis;

/** The version from the jar manifest (set by Maven from pom.xml). */
public final class Version {

    private Version() {
    }

    public static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }
}
