resource "aws_iam_user" "x" {
  name = <<EOT
alice
  description = "never closed"
}
