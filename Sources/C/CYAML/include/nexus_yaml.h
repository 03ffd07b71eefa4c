#ifndef NEXUS_YAML_H
#define NEXUS_YAML_H
// Shim over libyaml's event parser: events come out as plain structs.
#include <stddef.h>

typedef struct nexus_yaml_parser nexus_yaml_parser;

enum {
    NEXUS_YAML_STREAM_START = 1, NEXUS_YAML_STREAM_END,
    NEXUS_YAML_DOCUMENT_START, NEXUS_YAML_DOCUMENT_END,
    NEXUS_YAML_ALIAS, NEXUS_YAML_SCALAR,
    NEXUS_YAML_SEQUENCE_START, NEXUS_YAML_SEQUENCE_END,
    NEXUS_YAML_MAPPING_START, NEXUS_YAML_MAPPING_END,
};

typedef struct {
    int type;
    const char *value;     // scalars: valid until the next call
    size_t length;
    int plain;             // 1 for an unquoted scalar (only these can be numbers or booleans)
    size_t line;           // 1-based
    size_t column;         // 1-based
} nexus_yaml_event;

/// The parser reads from `data`, which must stay alive until close.
nexus_yaml_parser *nexus_yaml_open(const unsigned char *data, size_t length);
/// 1: an event; 0: a syntax error (see nexus_yaml_error).
int nexus_yaml_next(nexus_yaml_parser *parser, nexus_yaml_event *event);
const char *nexus_yaml_error(nexus_yaml_parser *parser, size_t *line, size_t *column);
void nexus_yaml_close(nexus_yaml_parser *parser);

#endif
