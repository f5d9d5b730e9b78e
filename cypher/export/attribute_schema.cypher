// The users' declared attributes of this graph (JSON: label -> name -> kind), as the builds recorded them
MATCH (s:GraphSchema {name: 'attributes'})
RETURN s.attributes_json AS attributes_json
