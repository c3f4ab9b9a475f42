resource "aws_iam_user" "f" {
  name = <<-EOT
    f
    EOT
}
