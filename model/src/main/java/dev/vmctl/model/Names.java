package dev.vmctl.model;

import java.util.regex.Pattern;

public final class Names {
    public static final String PATTERN = "[a-z0-9][a-z0-9-]{0,62}";
    private static final Pattern NAME = Pattern.compile(PATTERN);

    private Names() {}

    public static String check(String field, String name) {
        if (name == null || name.isEmpty()) {
            throw VmctlException.invalid(field, "missing", "a name matching " + PATTERN);
        }
        if (!NAME.matcher(name).matches()) {
            throw VmctlException.invalid(field, "'" + name + "' is not a valid name",
                    "lower-case letters, digits and '-', starting with a letter or digit, 1-63 characters (" + PATTERN + ")");
        }
        return name;
    }
}
