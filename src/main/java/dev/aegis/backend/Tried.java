package dev.aegis.backend;

/**
 * The backends one client connection has already tried, so that a retry goes elsewhere. Made
 * once per connection (it is tiny) and reused for every pick of that connection; a pick itself
 * allocates nothing.
 */
public final class Tried {

    /** For a pick that excludes nothing (the first pick of a connection). */
    public static final Tried NONE = new Tried(0);

    private final Backend[] tried;
    private int count;

    public Tried(int capacity) {
        this.tried = new Backend[capacity];
    }

    public void add(Backend backend) {
        if (count < tried.length) {
            tried[count++] = backend;
        }
    }

    public boolean contains(Backend backend) {
        for (int i = 0; i < count; i++) {
            if (tried[i] == backend) {
                return true;
            }
        }
        return false;
    }

    public int size() {
        return count;
    }
}
