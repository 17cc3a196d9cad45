/// A token id in the model vocabulary.
public typealias TokenID = Int32
