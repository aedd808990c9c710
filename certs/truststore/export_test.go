package truststore

// ParseList exposes the certutil -L parser to truststore_test.
var ParseList = parseList
