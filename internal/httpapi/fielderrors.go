package httpapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// validationError turns the validator's errors into one: errParse for a body
// that is not JSON, else fieldErrors with the messages of each faulty field,
// worded as DRF words them.
func validationError(err error) error {
	var parseErr *openapi3filter.ParseError
	if errors.As(err, &parseErr) {
		return errParse
	}
	fields := fieldErrors{}
	collectFieldErrors(err, fields)
	if len(fields) == 0 {
		fields[nonFieldErrors] = []string{"Invalid request."}
	}
	return fields
}

// nonFieldErrors is DRF's key for errors of the body as a whole.
const nonFieldErrors = "non_field_errors"

func collectFieldErrors(err error, fields fieldErrors) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			collectFieldErrors(e, fields)
		}
		return
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) && reqErr.Err != nil {
		collectFieldErrors(reqErr.Err, fields)
		return
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		fields[nonFieldErrors] = append(fields[nonFieldErrors], "Invalid request.")
		return
	}
	key := nonFieldErrors
	if path := schemaErr.JSONPointer(); len(path) > 0 {
		key = strings.Join(path, ".")
	}
	msg := fieldMessage(schemaErr, key == nonFieldErrors)
	if !slices.Contains(fields[key], msg) {
		fields[key] = append(fields[key], msg)
	}
}

// fieldMessage words a schema violation the way DRF words its field errors.
func fieldMessage(e *openapi3.SchemaError, whole bool) string {
	s, isString := e.Value.(string)
	switch {
	case whole && e.Value == nil:
		return "No data provided" // DRF's words for a null body
	case whole && e.SchemaField == "type":
		return fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonType(e.Value))
	case e.SchemaField == "required":
		return "This field is required."
	case e.Value == nil:
		return "This field may not be null."
	case e.SchemaField == "type":
		return fmt.Sprintf("Not a valid %s.", e.Schema.Type.Slice()[0])
	case isString && strings.TrimSpace(s) == "":
		return "This field may not be blank."
	case e.SchemaField == "maxLength" && e.Schema.MaxLength != nil:
		return fmt.Sprintf("Ensure this field has no more than %d characters.", *e.Schema.MaxLength)
	case e.SchemaField == "minLength":
		return fmt.Sprintf("Ensure this field has at least %d characters.", e.Schema.MinLength)
	case e.SchemaField == "pattern" && e.Schema.Extensions["x-pattern-message"] != nil:
		return fmt.Sprint(e.Schema.Extensions["x-pattern-message"])
	}
	// Not kin-openapi's own wording, which may quote the schema (patterns).
	return "Invalid value."
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64, int64, int:
		return "number"
	}
	return "value"
}
