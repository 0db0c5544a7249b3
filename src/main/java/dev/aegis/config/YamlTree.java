package dev.aegis.config;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * Reads YAML text into a {@link YamlNode} tree, from SnakeYAML's parser events (not its composed
 * nodes), so that the limits and checks a config file needs are ours: duplicate keys are errors
 * (named by path), anchors and aliases work (including {@code <<} merge keys) but cannot expand
 * into a "billion laughs" bomb, nesting is bounded, and a syntax error becomes one line with its
 * position instead of a stack trace. Scalars are typed by {@link YamlScalars}.
 *
 * <p>SnakeYAML's own alias and nesting limits belong to its composer and never apply here; only
 * its code point limit (enforced by its reader) does, and it does not count comments, so the size
 * is also checked before parsing. Aliases become shared references to the anchored subtree, never
 * copies, and what they would expand to is counted against {@link #MAX_ALIAS_EXPANSION}.
 *
 * <p>Only maps and lists can be anchored: an anchor on a scalar is ignored, so an alias to it is
 * reported as having no anchor. That is how the Jackson-based reader this replaces behaved, and
 * files must keep their meaning.
 */
final class YamlTree {

    static final int MAX_CODE_POINTS = 4 * 1024 * 1024;
    /** A valid file nests about six levels; anything this deep is a mistake or an attack. */
    static final int MAX_DEPTH = 64;
    /** Values that alias uses stand for, summed; generous for sharing blocks, tiny next to a bomb. */
    static final long MAX_ALIAS_EXPANSION = 100_000;

    private static final String MERGE_KEY = "<<";

    private final Parser parser;
    private final Findings findings;
    private final Deque<Frame> open = new ArrayDeque<>();
    private final Map<String, Sized> anchors = new HashMap<>();
    private long aliasExpansion;
    /** The last event read: errors found after it are placed at its end. */
    private Event last;

    private YamlTree(Parser parser, Findings findings) {
        this.parser = parser;
        this.findings = findings;
    }

    /**
     * @return the root of the single YAML document in {@code text}; null when the text is empty
     *         or cannot be read as YAML, the reason then being in {@code findings}
     */
    static YamlNode read(String text, Findings findings) {
        // Checked here because SnakeYAML does not count comments against its code point limit.
        if (text.length() > MAX_CODE_POINTS) {
            findings.error("", "larger than the limit of " + MAX_CODE_POINTS + " characters");
            return null;
        }
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CODE_POINTS);
        YamlTree tree = new YamlTree(new ParserImpl(new StreamReader(text), options), findings);
        try {
            YamlNode root = tree.readDocument();
            if (root == null || root instanceof YamlNode.Null) {
                findings.error("", "the configuration is empty (proxy.listen and proxy.backends are required)");
                return null;
            }
            if (tree.next() != null) {
                findings.error("", "more than one YAML document (a second \"---\"); Aegis reads exactly one");
                return null;
            }
            return root;
        } catch (Stop e) {
            return null;
        } catch (MarkedYAMLException syntax) {
            findings.error("", "YAML syntax error" + at(syntax.getProblemMark()) + ": " + syntax.getProblem()
                    + context(syntax));
        } catch (ReaderException e) {
            findings.error("", String.format("not a text file: character U+%04X at offset %d is not allowed in YAML",
                    e.getCodePoint(), e.getPosition()));
        } catch (YAMLException e) {
            findings.error("", "YAML error" + tree.at() + ": " + e.getMessage());
        }
        return null;
    }

    private YamlNode readDocument() throws Stop {
        Event event = next();
        if (event == null) {
            return null;
        }
        while (true) {
            Frame parent = open.peek();
            if (parent != null && parent.expectsKey() && !event.is(Event.ID.MappingEnd)) {
                if (!(event instanceof ScalarEvent key)) {
                    throw stop("YAML error" + at() + ": Expected a field name (Scalar value in YAML), got this instead: "
                            + event);
                }
                parent.key = key.getValue(); // quoted or not, tagged or not: keys are text
                event = next();
                continue;
            }
            Sized value;
            switch (event.getEventId()) {
                case MappingStart, SequenceStart -> {
                    if (open.size() >= MAX_DEPTH) {
                        throw stop("nested deeper than " + MAX_DEPTH + " levels" + at());
                    }
                    open.push(new Frame(event.is(Event.ID.MappingStart), childPath(),
                            ((CollectionStartEvent) event).getAnchor()));
                    event = next();
                    continue;
                }
                case MappingEnd, SequenceEnd -> value = finish(open.pop());
                case Alias -> value = alias((AliasEvent) event);
                case Scalar -> value = scalar((ScalarEvent) event);
                default -> throw stop("YAML error" + at() + ": unexpected " + event);
            }
            if (open.isEmpty()) {
                return value.node;
            }
            add(open.element(), value);
            event = next();
            if (event == null) {
                throw stop("unexpected end of the document" + at());
            }
        }
    }

    /**
     * The next event of the document's content, the markers of documents passed over; null at the
     * end of the stream.
     */
    private Event next() throws Stop {
        while (true) {
            Event event;
            try {
                event = parser.getEvent();
            } catch (NumberFormatException e) {
                // SnakeYAML lets this escape for an escape such as "\UFFFFFFFF" in a quoted scalar.
                throw stop("YAML error" + at() + ": Malformed Number token: failed to tokenize due to ("
                        + e.getClass().getName() + "): " + e.getMessage());
            }
            last = event;
            switch (event.getEventId()) {
                case StreamStart, DocumentStart, DocumentEnd -> {
                }
                case StreamEnd -> {
                    return null;
                }
                default -> {
                    return event;
                }
            }
        }
    }

    private Sized finish(Frame done) {
        YamlNode node;
        if (done.entries != null) {
            done.applyMerges();
            node = new YamlNode.Mapping(done.entries);
        } else {
            node = new YamlNode.Sequence(done.elements);
        }
        Sized value = new Sized(node, done.size);
        if (done.anchor != null) {
            anchors.put(done.anchor, value);
        }
        return value;
    }

    private Sized alias(AliasEvent alias) throws Stop {
        String name = alias.getAnchor();
        Sized anchored = anchors.get(name);
        if (anchored == null) {
            findings.error(childPath(), "alias *" + name + " has no complete anchor &" + name + " before it");
            return new Sized(new YamlNode.Null(), 1);
        }
        aliasExpansion += anchored.size;
        if (aliasExpansion > MAX_ALIAS_EXPANSION) {
            throw stop("YAML aliases expand to more than " + MAX_ALIAS_EXPANSION
                    + " values (a \"billion laughs\" bomb?)" + at());
        }
        return anchored;
    }

    private Sized scalar(ScalarEvent scalar) throws Stop {
        try {
            return new Sized(YamlScalars.type(scalar), 1);
        } catch (YamlScalars.BadScalar e) {
            throw stop("YAML error" + (e.located ? at() : "") + ": " + e.getMessage());
        }
    }

    private void add(Frame parent, Sized value) {
        parent.size += value.size;
        if (parent.elements != null) {
            parent.elements.add(value.node);
            return;
        }
        String key = parent.key;
        parent.key = null;
        if (MERGE_KEY.equals(key)) {
            if (!parent.addMerge(value.node)) {
                findings.error(childPath(parent, key), "a merge key needs a map or a list of maps, got "
                        + ConfigNode.describe(value.node));
            }
        } else {
            if (parent.entries.containsKey(key)) {
                findings.error(childPath(parent, key), "duplicate key (a key may appear only once in a map)");
            }
            parent.entries.put(key, value.node);
        }
    }

    /** The path of the value the parser is at, from the open containers. */
    private String childPath() {
        Frame parent = open.peek();
        return parent == null ? "" : childPath(parent, parent.key);
    }

    private static String childPath(Frame parent, String key) {
        if (parent.elements != null) {
            return parent.path + "[" + parent.elements.size() + "]";
        }
        return parent.path.isEmpty() ? key : parent.path + "." + key;
    }

    private Stop stop(String message) {
        findings.error("", message);
        return new Stop();
    }

    /** The end of the last event read, where an error found after it is placed. */
    private String at() {
        return last == null ? "" : at(last.getEndMark());
    }

    private static String at(Mark mark) {
        return mark == null ? "" : " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    private static String context(MarkedYAMLException e) {
        return e.getContext() == null ? "" : " (" + e.getContext() + at(e.getContextMark()) + ")";
    }

    /** A value and how many values it stands for once its aliases are expanded. */
    private record Sized(YamlNode node, long size) {
    }

    /** A map or list being read: exactly one of {@code entries} and {@code elements} is set. */
    private static final class Frame {
        final Map<String, YamlNode> entries;
        final List<YamlNode> elements;
        final String path;
        final String anchor;
        final List<YamlNode.Mapping> merges = new ArrayList<>();
        long size = 1;
        /** In a map: the key whose value comes next, null while a key is expected. */
        String key;

        Frame(boolean mapping, String path, String anchor) {
            this.entries = mapping ? new LinkedHashMap<>() : null;
            this.elements = mapping ? null : new ArrayList<>();
            this.path = path;
            this.anchor = anchor;
        }

        boolean expectsKey() {
            return entries != null && key == null;
        }

        /** @return false when {@code source} is neither a map nor a list of maps */
        boolean addMerge(YamlNode source) {
            if (source instanceof YamlNode.Mapping map) {
                merges.add(map);
                return true;
            }
            if (!(source instanceof YamlNode.Sequence list)
                    || !list.elements().stream().allMatch(YamlNode.Mapping.class::isInstance)) {
                return false;
            }
            list.elements().forEach(element -> merges.add((YamlNode.Mapping) element));
            return true;
        }

        /** YAML merge keys: keys written in this map win, then earlier merged maps over later ones. */
        void applyMerges() {
            for (YamlNode.Mapping source : merges) {
                source.entries().forEach(entries::putIfAbsent);
            }
        }
    }

    /** Reading cannot go on; the reason is already in the findings. */
    private static final class Stop extends Exception {
        Stop() {
            super(null, null, false, false);
        }
    }
}
