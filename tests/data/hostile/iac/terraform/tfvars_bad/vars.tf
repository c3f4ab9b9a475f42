variable "ci" {
  type = bool
}
