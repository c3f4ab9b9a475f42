# Another configuration (another state) creates a key for erin.
resource "aws_iam_access_key" "erin" {
  user = "erin"
}
