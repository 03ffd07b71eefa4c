#include "nexus_yaml.h"

#include <stdlib.h>
#include <yaml.h>

struct nexus_yaml_parser {
    yaml_parser_t parser;
    yaml_event_t event;
    int has_event;
};

nexus_yaml_parser *nexus_yaml_open(const unsigned char *data, size_t length) {
    nexus_yaml_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (!yaml_parser_initialize(&p->parser)) { free(p); return NULL; }
    yaml_parser_set_input_string(&p->parser, data, length);
    return p;
}

int nexus_yaml_next(nexus_yaml_parser *p, nexus_yaml_event *out) {
    if (p->has_event) { yaml_event_delete(&p->event); p->has_event = 0; }
    if (!yaml_parser_parse(&p->parser, &p->event)) return 0;
    p->has_event = 1;
    out->value = NULL;
    out->length = 0;
    out->plain = 0;
    out->line = p->event.start_mark.line + 1;
    out->column = p->event.start_mark.column + 1;
    switch (p->event.type) {
    case YAML_STREAM_START_EVENT: out->type = NEXUS_YAML_STREAM_START; break;
    case YAML_STREAM_END_EVENT: out->type = NEXUS_YAML_STREAM_END; break;
    case YAML_DOCUMENT_START_EVENT: out->type = NEXUS_YAML_DOCUMENT_START; break;
    case YAML_DOCUMENT_END_EVENT: out->type = NEXUS_YAML_DOCUMENT_END; break;
    case YAML_ALIAS_EVENT: out->type = NEXUS_YAML_ALIAS; break;
    case YAML_SCALAR_EVENT:
        out->type = NEXUS_YAML_SCALAR;
        out->value = (const char *)p->event.data.scalar.value;
        out->length = p->event.data.scalar.length;
        out->plain = p->event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT: out->type = NEXUS_YAML_SEQUENCE_START; break;
    case YAML_SEQUENCE_END_EVENT: out->type = NEXUS_YAML_SEQUENCE_END; break;
    case YAML_MAPPING_START_EVENT: out->type = NEXUS_YAML_MAPPING_START; break;
    case YAML_MAPPING_END_EVENT: out->type = NEXUS_YAML_MAPPING_END; break;
    default: out->type = 0; break;
    }
    return 1;
}

const char *nexus_yaml_error(nexus_yaml_parser *p, size_t *line, size_t *column) {
    *line = p->parser.problem_mark.line + 1;
    *column = p->parser.problem_mark.column + 1;
    return p->parser.problem ? p->parser.problem : "unknown YAML error";
}

void nexus_yaml_close(nexus_yaml_parser *p) {
    if (!p) return;
    if (p->has_event) yaml_event_delete(&p->event);
    yaml_parser_delete(&p->parser);
    free(p);
}
